// Package dbtest opens real, fresh, migrated databases for tests: a SQLite
// file in a temporary directory and a PostgreSQL schema of its own. Store
// tests call Each so the same suite runs unchanged on both engines.
//
// PostgreSQL is found at $TROTHU_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it cannot be
// reached the PostgreSQL half is skipped on a developer's machine and fails
// under CI (CI=true) or when TROTHU_TEST_POSTGRES is set explicitly.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/db"
)

// PostgresURL returns the base URL of the test PostgreSQL server.
func PostgresURL() string {
	if u := os.Getenv("TROTHU_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func postgresRequired() bool {
	return os.Getenv("CI") != "" || os.Getenv("TROTHU_TEST_POSTGRES") != ""
}

// Each runs fn as a subtest once per engine, each with a fresh migrated DB.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open returns a fresh migrated database of the given engine, closed and
// removed when the test ends.
func Open(t testing.TB, e db.Dialect) *db.DB {
	t.Helper()
	u := URL(t, e)
	ctx := context.Background()
	d, err := db.Open(ctx, u, db.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", e, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, _, err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", e, err)
	}
	return d
}

// URL returns a database URL for a fresh, empty database of the given
// engine (a new SQLite file, or a new PostgreSQL schema dropped at the end).
func URL(t testing.TB, e db.Dialect) string {
	t.Helper()
	if e == db.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	}
	base := PostgresURL()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		if postgresRequired() {
			t.Fatalf("postgres at %s is required here (CI or TROTHU_TEST_POSTGRES set) but unreachable: %v", base, err)
		}
		t.Skipf("postgres unreachable at %s (set TROTHU_TEST_POSTGRES): %v", base, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}
