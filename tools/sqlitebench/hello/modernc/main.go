// Command modernc is the hello-world used for the binary-size and build facts:
// it opens a WAL database, writes a row, reads it back.
package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"
)

func main() {
	dir, err := os.MkdirTemp("", "hello-modernc-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "h.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	for _, q := range []string{"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "CREATE TABLE t(x TEXT)", "INSERT INTO t VALUES ('hello')"} {
		if _, err := db.Exec(q); err != nil {
			fmt.Fprintln(os.Stderr, "modernc:", err)
			os.Exit(1)
		}
	}
	var s, v string
	if err := db.QueryRow("SELECT x, sqlite_version() FROM t").Scan(&s, &v); err != nil {
		panic(err)
	}
	fmt.Println("modernc", s, "sqlite", v)
}
