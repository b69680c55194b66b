package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		from, to, err := d.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		steps, _ := db.Migrations(d.Dialect)
		if from != len(steps) || to != len(steps) {
			t.Fatalf("second migrate: got %d→%d, want %d→%d", from, to, len(steps), len(steps))
		}
		if err := d.CheckSchema(ctx); err != nil {
			t.Fatalf("check schema: %v", err)
		}
	})
}

func TestRefusesNewerSchema(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)", 9999, "9999_future.sql", db.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = d.Migrate(ctx)
		var tooNew db.ErrSchemaTooNew
		if !errors.As(err, &tooNew) {
			t.Fatalf("migrate on newer schema: got %v, want ErrSchemaTooNew", err)
		}
		if err := d.CheckSchema(ctx); !errors.As(err, &tooNew) {
			t.Fatalf("check schema: got %v, want ErrSchemaTooNew", err)
		}
	})
}

// Concurrent writers share commits, and a failing writer loses only its own work.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const n = 200
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = d.Write(ctx, func(tx *db.Tx) error {
					if _, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, ?)", fmt.Sprintf("k%03d", i), "v"); err != nil {
						return err
					}
					if i%10 == 0 {
						return errors.New("deliberate failure")
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if (i%10 == 0) != (err != nil) {
				t.Fatalf("writer %d: got err %v", i, err)
			}
		}
		var count int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key LIKE 'k%'").Scan(&count); err != nil {
			t.Fatal(err)
		}
		if want := n - n/10; count != want {
			t.Fatalf("rows kept: got %d, want %d", count, want)
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO audit_log(at, action) VALUES (?, ?)", db.Now(), "test")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"} {
			err := d.Write(ctx, func(tx *db.Tx) error { _, err := tx.Exec(ctx, q); return err })
			if err == nil {
				t.Fatalf("%s: got nil error, want refusal", q)
			}
		}
	})
}

func TestSubtreeRange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		paths := []string{"/1/", "/1/2/", "/1/2/3/", "/1/20/", "/10/", "/1/2/30/"}
		err := d.Write(ctx, func(tx *db.Tx) error {
			for i, p := range paths {
				if _, err := tx.Exec(ctx, "INSERT INTO audit_log(at, action, unit_path) VALUES (?, ?, ?)", int64(i), "t", p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := db.SubtreeRange("/1/2/")
		var got int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE unit_path >= ? AND unit_path < ?", lo, hi).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != 3 {
			t.Fatalf("subtree of /1/2/: got %d rows, want 3", got)
		}
	})
}

func TestRebind(t *testing.T) {
	d := &db.DB{Dialect: db.Postgres}
	got := d.SQL("SELECT * FROM t WHERE a = ? AND b = '?' AND c IN (?, ?)")
	want := "SELECT * FROM t WHERE a = $1 AND b = '?' AND c IN ($2, $3)"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// The durability settings are what the server relies on: WAL, enforced
// foreign keys, read-only readers, and the writer's checkpoint interval.
// The writer commits at NORMAL: its WAL is synced by the committer before
// a Write returns (TestWriteSyncsWAL).
func TestSQLitePragmas(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	for q, want := range map[string]string{
		"PRAGMA journal_mode": "wal",
		"PRAGMA synchronous":  "2",
		"PRAGMA foreign_keys": "1",
		"PRAGMA query_only":   "1",
	} {
		var got string
		if err := d.QueryRow(ctx, q).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("read pool %s: got %s, want %s", q, got, want)
		}
	}
	for q, want := range map[string]string{"PRAGMA synchronous": "1", "PRAGMA foreign_keys": "1", "PRAGMA query_only": "0", "PRAGMA wal_autocheckpoint": "8000"} {
		var got string
		err := d.Write(ctx, func(tx *db.Tx) error { return tx.QueryRow(ctx, q).Scan(&got) })
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("writer %s: got %s, want %s", q, got, want)
		}
	}
	err := d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO households(unit_id, unit_path, address, address_fold, created_at, updated_at) VALUES (999999, '/x/', 'a', 'a', 0, 0)")
		return err
	})
	if !db.IsForeignKeyViolation(err) {
		t.Errorf("insert with a dangling unit_id: got %v, want a foreign-key violation", err)
	}
}

// WriteEach commits each statement and hands its RETURNING rows over; a
// failing statement reports its error, and on PostgreSQL it alone fails.
func TestWriteEach(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var got []string
		collect := func(rows *sql.Rows) error {
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					return err
				}
				got = append(got, k)
			}
			return nil
		}
		ins := func(keys ...string) db.Statement {
			q := "INSERT INTO settings(key, value) VALUES "
			var args []any
			for i, k := range keys {
				if i > 0 {
					q += ", "
				}
				q += "(?, 'v')"
				args = append(args, k)
			}
			return db.Statement{Query: q + " RETURNING key", Args: args, Rows: collect}
		}
		errs := d.WriteEach(ctx, []db.Statement{ins("a1", "a2"), ins("b1")})
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("WriteEach: %v", errs)
		}
		if fmt.Sprint(got) != "[a1 a2 b1]" {
			t.Fatalf("rows handed over: %v, want [a1 a2 b1]", got)
		}
		// A duplicate key fails its statement.
		errs = d.WriteEach(ctx, []db.Statement{ins("c1"), ins("a1")})
		if !db.IsUniqueViolation(errs[1]) {
			t.Fatalf("second statement: %v, want a unique violation", errs[1])
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key = 'c1'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		switch d.Dialect {
		case db.Postgres: // each statement its own transaction: c1 kept
			if errs[0] != nil || n != 1 {
				t.Fatalf("PostgreSQL: first statement %v, c1 rows %d; want kept", errs[0], n)
			}
		default: // one group commit: both fail together
			if errs[0] == nil || n != 0 {
				t.Fatalf("SQLite: first statement %v, c1 rows %d; want failed with the second", errs[0], n)
			}
		}
	})
}

// Keyed reads answer like any read, and sets round up to powers of two.
func TestQueryKeyedAndKeyedSize(t *testing.T) {
	for _, c := range [][3]int{{1, 32, 1}, {2, 32, 2}, {3, 32, 4}, {17, 32, 32}, {32, 32, 32}, {5, 4, 4}} {
		if got := db.KeyedSize(c[0], c[1]); got != c[2] {
			t.Errorf("KeyedSize(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES ('x', '1'), ('y', '2')")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for range 8 { // past PostgreSQL's first plans of a prepared statement
			vals, err := db.Column[string](d.QueryKeyed(ctx, "SELECT value FROM settings WHERE key IN (?, ?, ?, ?) ORDER BY value", "y", "x", "x", "none"))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(vals) != "[1 2]" {
				t.Fatalf("keyed read: %v, want [1 2]", vals)
			}
		}
	})
}

// WriteKeyed commits like Write, and a failing fn keeps none of its work.
func TestWriteKeyed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for range 3 { // a statement run again on a connection uses its plan
			if err := d.WriteKeyed(ctx, func(tx *db.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", "kept", "v")
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		boom := errors.New("boom")
		err := d.WriteKeyed(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, ?)", "dropped", "v"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("failing fn: got %v, want its error", err)
		}
		keys, err := db.Column[string](d.Query(ctx, "SELECT key FROM settings WHERE key IN ('kept', 'dropped') ORDER BY key"))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(keys) != "[kept]" {
			t.Fatalf("rows after: %v, want [kept]", keys)
		}
	})
}

// openAt opens a fresh database of engine e migrated to schema version
// v, closed when the test ends.
func openAt(t *testing.T, e db.Dialect, v int) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.URL(t, e), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, to, err := d.MigrateTo(ctx, v); err != nil || to != v {
		t.Fatalf("migrate to %d: %d, %v", v, to, err)
	}
	return d
}

// Schema 8 keys deliveries by unit id: the rows of a database at 7 keep
// their times and acknowledgements, and the empty texts and 0 become NULL.
func TestMigrationKeysDeliveriesByUnit(t *testing.T) {
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			d := openAt(t, e, 7)
			err := d.Write(ctx, func(tx *db.Tx) error {
				for _, q := range []string{
					"INSERT INTO units(id, parent_id, path, level, name, full_name, kind, name_fold, created_at) VALUES (1, NULL, '/1/', 'country', 'VN', 'VN', 'admin', 'vn', 0)",
					"INSERT INTO units(id, parent_id, path, level, name, full_name, kind, name_fold, created_at) VALUES (12, 1, '/1/12/', 'group', 'Tổ 1', 'Tổ 1', 'group', 'to 1', 0)",
					"INSERT INTO notice_deliveries(notice_id, unit_path, household_id, delivered_at) VALUES (5, '/1/12/', 100, 1000)",
					"INSERT INTO notice_deliveries(notice_id, unit_path, household_id, delivered_at, seen_at, acked_at, acked_by, ack_name, ack_proxy, ack_note) VALUES (5, '/1/12/', 101, 1000, 2000, 3000, 7, 'Tổ trưởng', 1, 'đã báo')",
				} {
					if _, err := tx.Exec(ctx, q); err != nil {
						return fmt.Errorf("%s: %w", q, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if from, to, err := d.Migrate(ctx); err != nil || from != 7 || to < 8 {
				t.Fatalf("migrate: %d→%d, %v", from, to, err)
			}
			rows, err := d.Query(ctx, `SELECT unit_id, household_id, delivered_at, seen_at, acked_by, ack_name, ack_proxy, ack_note
				FROM notice_deliveries WHERE notice_id = 5 ORDER BY household_id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var unit, hh, del int64
				var seen, by, proxy sql.NullInt64
				var name, note sql.NullString
				if err := rows.Scan(&unit, &hh, &del, &seen, &by, &name, &proxy, &note); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%d %d %d %v %v %v %v %v", unit, hh, del, seen, by, name, proxy, note))
			}
			want := []string{
				"12 100 1000 {0 false} {0 false} { false} {0 false} { false}",
				"12 101 1000 {2000 true} {7 true} {Tổ trưởng true} {1 true} {đã báo true}",
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("deliveries after migration:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// Schema 12 (SQLite) replaces the search postings with the text index:
// request_terms goes, the queue is emptied and every request is marked
// for indexing from the first id, a backfill already under way included.
func TestMigrationToTextIndex(t *testing.T) {
	ctx := context.Background()
	d := openAt(t, db.SQLite, 11)
	err := d.Write(ctx, func(tx *db.Tx) error {
		for _, q := range []string{
			"UPDATE settings SET value = '500' WHERE key = 'request.terms_backfill'",
			"INSERT INTO settings(key, value) SELECT 'request.terms_backfill', '500' WHERE NOT EXISTS (SELECT 1 FROM settings WHERE key = 'request.terms_backfill')",
			"INSERT INTO request_terms(term, created_at, request_id, unit_path) VALUES ('khanh', 1000, 7, '/1/')",
			"INSERT INTO request_index_queue(request_id) VALUES (8)",
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if from, to, err := d.Migrate(ctx); err != nil || from != 11 || to < 12 {
		t.Fatalf("migrate: %d→%d, %v", from, to, err)
	}
	var n int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'request_terms'").Scan(&n); err != nil || n != 0 {
		t.Errorf("request_terms after the migration: %d (%v), want dropped", n, err)
	}
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM request_index_queue").Scan(&n); err != nil || n != 0 {
		t.Errorf("queued after the migration: %d (%v), want none", n, err)
	}
	var v string
	if err := d.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'request.terms_backfill'").Scan(&v); err != nil || v != "0" {
		t.Errorf("backfill mark: %q (%v), want 0", v, err)
	}
	err = d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO request_fts(rowid, words) VALUES (7, 'khanh hoi')")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM request_fts WHERE request_fts MATCH 'kh*'").Scan(&n); err != nil || n != 1 {
		t.Errorf("text index: %d matches (%v), want 1", n, err)
	}
}

// CopyFrom appends rows inside the transaction on PostgreSQL — kept when
// it commits, gone when it fails — and answers ErrNoCopy on SQLite.
func TestCopyFrom(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "CREATE TABLE copy_t (a BIGINT NOT NULL, b TEXT)")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		rows := [][]any{{int64(1), "một"}, {int64(2), nil}, {int64(3), "Đồng"}}
		err := d.Write(ctx, func(tx *db.Tx) error { return tx.CopyFrom(ctx, "copy_t", []string{"a", "b"}, rows) })
		if d.Dialect == db.SQLite {
			if !errors.Is(err, db.ErrNoCopy) {
				t.Fatalf("sqlite: got %v, want ErrNoCopy", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err = d.Write(ctx, func(tx *db.Tx) error {
			if err := tx.CopyFrom(ctx, "copy_t", []string{"a", "b"}, [][]any{{int64(4), "bốn"}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want boom", err)
		}
		var got []string
		res, err := d.Query(ctx, "SELECT a, COALESCE(b, '-') FROM copy_t ORDER BY a")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		for res.Next() {
			var a int64
			var b string
			if err := res.Scan(&a, &b); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d %s", a, b))
		}
		if fmt.Sprint(got) != "[1 một 2 - 3 Đồng]" {
			t.Errorf("rows %v, want the three of the committed COPY", got)
		}
	})
}

// InsertIDs returns the ids the database gave new rows, in the order of
// the rows — over more rows than one SQLite statement takes, and after
// ids that rows inserted otherwise took.
func TestInsertIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ddl := "CREATE TABLE ids_t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
		if d.Dialect == db.Postgres {
			ddl = "CREATE TABLE ids_t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v TEXT NOT NULL)"
		}
		var ids []int64
		err := d.Write(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, ddl); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO ids_t(v) VALUES ('trước')"); err != nil {
				return err
			}
			var rows [][]any
			for i := range 70 {
				rows = append(rows, []any{fmt.Sprintf("hàng %d", i)})
			}
			var err error
			ids, err = tx.InsertIDs(ctx, "ids_t", []string{"v"}, rows)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 70 {
			t.Fatalf("got %d ids, want 70", len(ids))
		}
		seen := map[int64]bool{}
		for i, id := range ids {
			var v string
			if err := d.QueryRow(ctx, "SELECT v FROM ids_t WHERE id = ?", id).Scan(&v); err != nil || v != fmt.Sprintf("hàng %d", i) || seen[id] {
				t.Fatalf("row %d: id %d holds %q (%v), want %q once", i, id, v, err, fmt.Sprintf("hàng %d", i))
			}
			seen[id] = true
		}
	})
}

// InsertNew writes every row, across several statements when there are
// many; a row that already exists fails the Write on both engines, and
// none of that Write's rows are kept — not even those of its statement
// before the duplicate, which SQLite's OR FAIL leaves for the rollback —
// while another Write in the same group commit keeps its own.
func TestInsertNew(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cols := []string{"k", "a", "b", "c"}
		rowsFrom := func(from, n int) [][]any {
			var rows [][]any
			for i := from; i < from+n; i++ {
				rows = append(rows, []any{fmt.Sprintf("k%05d", i), i, "Đồng", int64(i) * 1000})
			}
			return rows
		}
		err := d.Write(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "CREATE TABLE new_t (k TEXT PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c BIGINT NOT NULL)"); err != nil {
				return err
			}
			return tx.InsertNew(ctx, "new_t", cols, rowsFrom(0, 1500)) // 1,024 + 256 + 128 + 64 + 16 + 8 + 4 rows
		})
		if err != nil {
			t.Fatal(err)
		}
		count := func() int {
			var n int
			if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM new_t").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 1500 {
			t.Fatalf("got %d rows, want 1500", n)
		}
		var b string
		var c int64
		if err := d.QueryRow(ctx, "SELECT b, c FROM new_t WHERE k = 'k01499'").Scan(&b, &c); err != nil || b != "Đồng" || c != 1499000 {
			t.Fatalf("last row: %q %d (%v)", b, c, err)
		}
		// Rows 1500–1509 are new, 1499 exists, 1510–1519 are new again.
		clash := append(rowsFrom(1500, 10), rowsFrom(1499, 1)...)
		clash = append(clash, rowsFrom(1510, 10)...)
		var wg sync.WaitGroup
		var clashErr, otherErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			clashErr = d.Write(ctx, func(tx *db.Tx) error { return tx.InsertNew(ctx, "new_t", cols, clash) })
		}()
		go func() {
			defer wg.Done()
			otherErr = d.Write(ctx, func(tx *db.Tx) error { return tx.InsertNew(ctx, "new_t", cols, rowsFrom(2000, 5)) })
		}()
		wg.Wait()
		if !db.IsUniqueViolation(clashErr) {
			t.Fatalf("inserting an existing row: got %v, want a unique violation", clashErr)
		}
		if otherErr != nil {
			t.Fatalf("the other Write: %v", otherErr)
		}
		if n := count(); n != 1505 {
			t.Fatalf("after the failed Write: %d rows, want 1505 (none of its rows kept)", n)
		}
	})
}
