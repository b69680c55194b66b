//go:build !mattn

package main

// ncruces and mattn both register the database/sql name "sqlite3", so they
// cannot live in one binary; ncruces is in the default (cgo-free) build.
import _ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"

func init() {
	register(driverSpec{Name: "ncruces", SQLName: "sqlite3", Module: "github.com/ncruces/go-sqlite3", DSN: pragmaDSN})
}
