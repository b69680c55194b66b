//go:build mattn

package main

import (
	"database/sql"
	"fmt"
	"net/url"

	sqlite3 "github.com/mattn/go-sqlite3" // needs CGO_ENABLED=1
)

// mattn has DSN keys for all the product's pragmas but temp_store, which a
// ConnectHook sets; the hook needs its own registration ("sqlite3" stays
// mattn's default registration).
func init() {
	sql.Register("sqlite3-bench", &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA temp_store=MEMORY", nil)
		return err
	}})
	register(driverSpec{Name: "mattn", SQLName: "sqlite3-bench", Module: "github.com/mattn/go-sqlite3", Cgo: true,
		DSN: func(path string, writer bool) string {
			q := url.Values{}
			q.Set("_journal_mode", "WAL")
			q.Set("_synchronous", "FULL")
			q.Set("_foreign_keys", "1")
			q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
			q.Set("_cache_size", fmt.Sprint(cacheSizeKiB))
			if writer {
				q.Set("_txlock", "immediate")
			} else {
				q.Set("_query_only", "1")
			}
			return "file:" + path + "?" + q.Encode()
		}})
}
