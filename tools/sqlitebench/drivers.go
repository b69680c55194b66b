package main

import (
	"fmt"
	"net/url"
	"sort"
)

// driverSpec describes how to open one SQLite driver through database/sql.
// Every connection (writer and readers) gets the product's pragmas through
// the DSN, so they are applied by the driver on each new connection.
type driverSpec struct {
	Name    string // flag value: modernc, mattn, ncruces
	SQLName string // name registered with database/sql
	Module  string // Go module path, for the version lookup
	Cgo     bool
	// DSN builds the data source name for path. writer selects BEGIN IMMEDIATE.
	DSN func(path string, writer bool) string
}

var drivers = map[string]driverSpec{}

func register(d driverSpec) { drivers[d.Name] = d }

func driverNames() []string {
	var n []string
	for k := range drivers {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func lookupDriver(name string) (driverSpec, error) {
	d, ok := drivers[name]
	if !ok {
		hint := ""
		if name == "mattn" {
			hint = " (build with: CGO_ENABLED=1 go run -tags mattn . -driver=mattn)"
		}
		if name == "ncruces" {
			hint = " (ncruces is left out of -tags mattn builds: both register \"sqlite3\")"
		}
		return driverSpec{}, fmt.Errorf("driver %q not compiled in; have %v%s", name, driverNames(), hint)
	}
	return d, nil
}

// The product's settings (internal/db/db.go sqliteDSN): every connection
// gets these; read-pool connections also get query_only, the writer gets
// BEGIN IMMEDIATE.
const (
	busyTimeoutMS = 10000
	cacheSizeKiB  = -32000
)

// pragmaDSN is the URI form shared by modernc and ncruces: _pragma=name(value),
// the same DSN the product builds for modernc.
func pragmaDSN(path string, writer bool) string {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"foreign_keys(1)",
		fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
		"temp_store(MEMORY)",
		fmt.Sprintf("cache_size(%d)", cacheSizeKiB),
	} {
		q.Add("_pragma", p)
	}
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}
