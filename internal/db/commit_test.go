package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func put(ctx context.Context, d *db.DB, key string) error {
	return d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, 'v')", key)
		return err
	})
}

func visible(t *testing.T, d *db.DB, key string) bool {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM settings WHERE key = ?", key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// On SQLite a Write returns only after the WAL holding its commit is
// synced; while that sync runs, the writer runs the next Writes in a new
// transaction but does not commit them until the sync is done.
func TestWriteWaitsForWALSync(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	entered := make(chan struct{}, 4)
	release := make(chan struct{})
	syncErrs := make(chan error, 4)
	db.WrapSync(d, func(sync func() error) error {
		entered <- struct{}{}
		<-release
		err := sync() // the real fsync of the -wal file
		syncErrs <- err
		return err
	})
	a := make(chan error, 1)
	go func() { a <- put(ctx, d, "a") }()
	<-entered // "a" is committed and its sync has begun
	b := make(chan error, 1)
	go func() { b <- put(ctx, d, "b") }()

	select {
	case err := <-a:
		t.Fatalf("Write returned (%v) before its WAL was synced", err)
	case <-time.After(100 * time.Millisecond):
	}
	if !visible(t, d, "a") {
		t.Error(`"a" is committed but not visible to readers`)
	}
	if visible(t, d, "b") {
		t.Error(`"b" was committed while the previous commit's sync was running`)
	}
	close(release)
	for name, ch := range map[string]chan error{"a": a, "b": b} {
		if err := <-ch; err != nil {
			t.Fatalf("Write %s: %v", name, err)
		}
		if err := <-syncErrs; err != nil {
			t.Fatalf("syncing the WAL: %v", err)
		}
	}
	if !visible(t, d, "b") {
		t.Error(`"b" is not visible after its Write returned`)
	}
}

// A failed fsync fails the Writes it was to make durable and every Write
// after it: the file's state is unknown until SQLite recovers on restart.
func TestWALSyncFailureFailsWrites(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	broken := errors.New("disk on fire")
	db.WrapSync(d, func(func() error) error { return broken })
	if err := put(ctx, d, "a"); !errors.Is(err, broken) || !strings.Contains(err.Error(), "-wal") {
		t.Fatalf("first Write: got %v, want the sync's error naming the WAL", err)
	}
	if err := put(ctx, d, "b"); !errors.Is(err, broken) {
		t.Fatalf("later Write: got %v, want the sync's error", err)
	}
	if visible(t, d, "b") {
		t.Error(`"b" was written after the sync failed`)
	}
}
