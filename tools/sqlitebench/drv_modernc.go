package main

import _ "modernc.org/sqlite" // registers "sqlite"

func init() {
	register(driverSpec{Name: "modernc", SQLName: "sqlite", Module: "modernc.org/sqlite", DSN: pragmaDSN})
}
