// Package db owns connections, dialects, migrations and transactions. Every
// difference between SQLite and PostgreSQL lives here and nowhere else: rooms
// write SQL in the portable subset with ? placeholders and this package
// rebinds it for PostgreSQL.
//
// On SQLite all writes go through one writer goroutine that commits
// concurrent callers' work in one transaction and one fsync (group commit),
// and answers them only once the WAL is synced, so an acknowledged write
// survives a power cut (committer, commit.go).
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	_ "modernc.org/sqlite"             // SQLite driver
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a handle on the database: a read pool and a writer.
type DB struct {
	Dialect Dialect
	read    *sql.DB
	write   *sql.DB // SQLite: one connection owned by the committer; PostgreSQL: same pool as read
	// keyed runs statements that look rows up by key only (QueryKeyed,
	// WriteEach): on PostgreSQL a pool whose sessions may keep a generic
	// plan, since such a statement's best plan does not depend on its
	// arguments; on SQLite the same pool as read.
	keyed  *sql.DB
	gc     *committer
	rebind sync.Map // query string → rebound string (PostgreSQL)
	url    string
	// readStmts caches prepared read statements on SQLite, whose driver
	// would otherwise parse every query anew (pgx caches on its own).
	readStmts *stmtCache
}

// Options tune Open. Zero values pick sensible defaults.
type Options struct {
	// ReadConns is the size of the read pool (default: 2×GOMAXPROCS, at least 4).
	ReadConns int
	// MaxBatch caps how many callers share one group commit (default 512).
	MaxBatch int
}

// Open connects to the database named by rawURL: "sqlite:PATH" (or a bare
// path) or "postgres://…". It returns an error if the database cannot be
// reached.
func Open(ctx context.Context, rawURL string, opt Options) (*DB, error) {
	if opt.ReadConns <= 0 {
		opt.ReadConns = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 512
	}
	d := &DB{url: rawURL}
	var path string // SQLite's file
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		d.Dialect = Postgres
		pool, err := sql.Open("pgx", postgresDSN(rawURL))
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(opt.ReadConns * 2)
		pool.SetMaxIdleConns(opt.ReadConns * 2)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		keyed, err := sql.Open("pgx", postgresKeyedDSN(rawURL))
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		keyed.SetMaxOpenConns(opt.ReadConns * 2)
		keyed.SetMaxIdleConns(opt.ReadConns * 2)
		keyed.SetConnMaxIdleTime(5 * time.Minute)
		d.read, d.write, d.keyed = pool, pool, keyed
	default:
		d.Dialect = SQLite
		path = strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite://"), "sqlite:")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open sqlite: %w", err)
			}
		}
		w, err := sql.Open("sqlite", sqliteDSN(path, false))
		if err != nil {
			return nil, fmt.Errorf("open sqlite writer: %w", err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		// The first connection switches the file to WAL before readers open it.
		if err := w.PingContext(ctx); err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite writer: %w", err)
		}
		r, err := sql.Open("sqlite", sqliteDSN(path, true))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite readers: %w", err)
		}
		r.SetMaxOpenConns(opt.ReadConns)
		r.SetMaxIdleConns(opt.ReadConns)
		r.SetConnMaxIdleTime(0)
		d.read, d.write, d.keyed = r, w, r
	}
	if err := d.read.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect %s: %w", d.Dialect, err)
	}
	if d.Dialect == SQLite {
		d.readStmts = newStmtCache()
		gc, err := newCommitter(ctx, d, path, opt.MaxBatch)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.gc = gc
	}
	return d, nil
}

// postgresDSN adds the session settings trothu relies on unless the
// operator set them:
//   - custom plans, because a generic plan for a subtree range ("path >= $1
//     AND path < $2") cannot use the bounds and is 5–10× slower once
//     PostgreSQL switches to it after five executions;
//   - random_page_cost 1.1 instead of 4, since the working set is in memory
//     or on SSD: at 4 the planner prices the few hundred index lookups of a
//     ward's reach (its units joined to the deliveries' key) above a
//     parallel scan of a province's million deliveries, 10× slower.
func postgresDSN(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw // pgx reports the malformed URL
	}
	q := u.Query()
	if q.Get("plan_cache_mode") == "" {
		q.Set("plan_cache_mode", "force_custom_plan")
	}
	if q.Get("random_page_cost") == "" {
		q.Set("random_page_cost", "1.1")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// postgresKeyedDSN is the DSN of the keyed pool: generic plans (unless the
// operator chose a plan cache mode), so that a prepared statement that
// looks rows up by key is planned once per connection and never again —
// planning was 44 % of PostgreSQL's time in the acknowledgement benchmark.
// (The default, auto, would also settle on the generic plan, but only
// after five custom plans per statement and connection.)
func postgresKeyedDSN(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	if q.Get("plan_cache_mode") == "" {
		q.Set("plan_cache_mode", "force_generic_plan")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func sqliteDSN(path string, readOnly bool) string {
	// The writer commits at synchronous=NORMAL — the WAL is not synced by
	// COMMIT but by the committer's syncer before any caller is answered
	// (commit.go); checkpoints still sync the WAL before and the database
	// after. Readers keep FULL, which matters only to VACUUM INTO.
	sync := "synchronous(FULL)"
	if !readOnly {
		sync = "synchronous(NORMAL)"
	}
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		sync,
		"foreign_keys(1)",
		"busy_timeout(10000)",
		"temp_store(MEMORY)",
		"cache_size(-32000)",
		// Checkpoint every 8,000 WAL pages (about 32 MB) instead of
		// SQLite's 1,000: the single writer runs the checkpoint, and a
		// page written many times between two checkpoints (the tail of an
		// index) is copied back once. Intake +10–37 %, acknowledgements
		// +10 % (docs/BENCHMARKS.md).
		"wal_autocheckpoint(8000)",
	} {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close stops the writer and closes every connection.
func (d *DB) Close() error {
	if d.gc != nil {
		d.gc.stop()
	}
	d.readStmts.close()
	var err error
	if d.read != nil {
		err = d.read.Close()
	}
	if d.write != nil && d.write != d.read {
		err = errors.Join(err, d.write.Close())
	}
	if d.keyed != nil && d.keyed != d.read {
		err = errors.Join(err, d.keyed.Close())
	}
	return err
}

// Ping checks that the database answers (used by /readyz).
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Stats returns the read pool's statistics (exported as metrics).
func (d *DB) Stats() sql.DBStats { return d.read.Stats() }

// SQL rewrites a portable query for the dialect: ? placeholders become $1…
// on PostgreSQL. Queries are cached.
func (d *DB) SQL(q string) string {
	if d.Dialect != Postgres {
		return q
	}
	if v, ok := d.rebind.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	s := b.String()
	d.rebind.Store(q, s)
	return s
}

// Query runs a read query on the read pool.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := d.readStmts.get(ctx, d.read, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.read.QueryContext(ctx, d.SQL(q), args...)
}

// QueryRow runs a read query that returns at most one row.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := d.readStmts.get(ctx, d.read, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.read.QueryRowContext(ctx, d.SQL(q), args...)
}

// ScanSerial runs a read query that returns at most one row, scanned
// into dest, without parallel workers on PostgreSQL: for a read whose
// LIMIT … OFFSET the planner prices as a scan of the whole range, where
// starting two workers took 40 ms of an 82 ms read of a province's
// 4,000 newest requests (11 ms without). It returns sql.ErrNoRows as
// Row.Scan does.
func (d *DB) ScanSerial(ctx context.Context, q string, args []any, dest ...any) error {
	if d.Dialect != Postgres {
		return d.QueryRow(ctx, q, args...).Scan(dest...)
	}
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	if _, err := tx.ExecContext(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
		return err
	}
	return tx.QueryRowContext(ctx, d.SQL(q), args...).Scan(dest...)
}

// QueryKeyed runs a read query whose rows are found by key alone —
// equality on primary keys or unique columns, never a range or a prefix —
// so that its best plan does not depend on its arguments. PostgreSQL then
// plans it once per connection instead of on every run (subtree range
// queries must not come here: a generic plan cannot use their bounds).
func (d *DB) QueryKeyed(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if d.Dialect != Postgres {
		return d.Query(ctx, q, args...)
	}
	return d.keyed.QueryContext(ctx, d.SQL(q), args...)
}

// Column reads the one column of a query's rows (rows and err as Query
// returns them: ids, words) and closes the rows.
func Column[T any](rows *sql.Rows, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// Statement is one keyed statement (see QueryKeyed) of WriteEach, with
// the reader of its rows (of a RETURNING clause, say).
type Statement struct {
	Query string
	Args  []any
	Rows  func(*sql.Rows) error
}

// WriteEach runs independent keyed statements and returns, once each is
// durably committed, each one's error. On PostgreSQL every statement is a
// transaction of its own — one round trip, without BEGIN and COMMIT of
// their own; on SQLite they all go into one Write, one group commit, and
// commit or fail together. A statement whose Rows fails is kept all the
// same on PostgreSQL: Rows reads, it does not decide.
func (d *DB) WriteEach(ctx context.Context, stmts []Statement) []error {
	errs := make([]error, len(stmts))
	if d.Dialect != Postgres {
		err := d.Write(ctx, func(tx *Tx) error {
			for _, st := range stmts {
				if err := tx.Run(ctx, st); err != nil {
					return err
				}
			}
			return nil
		})
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	for i, st := range stmts {
		if errs[i] = ctx.Err(); errs[i] == nil {
			rows, err := d.keyed.QueryContext(ctx, d.SQL(st.Query), st.Args...)
			errs[i] = st.read(rows, err)
		}
	}
	return errs
}

// read hands a Statement's rows (as a query returned them) to its Rows.
func (st Statement) read(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := st.Rows(rows); err != nil {
		return err
	}
	return errors.Join(rows.Err(), rows.Close())
}

// Run runs st inside the transaction and reads its rows.
func (t *Tx) Run(ctx context.Context, st Statement) error {
	rows, err := t.Query(ctx, st.Query, st.Args...)
	return st.read(rows, err)
}

// KeyedSize rounds n, the number of items of a statement built for a set
// of keys (IN (…), VALUES …), up to a power of two no larger than max, the
// largest set built: a caller pads its set to that size, so that a handful
// of statement texts — each prepared and planned once per connection —
// serve every size instead of one text per size.
func KeyedSize(n, max int) int {
	size := 1
	for size < n {
		size *= 2
	}
	return min(size, max)
}

// Tx is a write transaction. On SQLite it may be shared with other callers
// of Write (each inside its own savepoint): do the work, return, and do not
// keep it.
type Tx struct {
	q     querier
	db    *DB
	stmts *stmtCache // SQLite's writer: statements prepared once, reused across transactions
	conn  *sql.Conn  // PostgreSQL: the connection the transaction runs on (CopyFrom)
}

// querier is what *sql.Tx and *sql.Conn have in common.
type querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, q string) (*sql.Stmt, error)
}

// Dialect returns the engine of the transaction.
func (t *Tx) Dialect() Dialect { return t.db.Dialect }

// SkipLocked is the clause that ends a SELECT of rows to take for work
// (a queue): on PostgreSQL it locks the rows it returns and skips those
// another transaction holds, so concurrent takers get different rows; on
// SQLite it is empty, since the one writer runs one transaction at a time.
func (t *Tx) SkipLocked() string {
	if t.db.Dialect == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// SharesCommits reports whether concurrent writes share one transaction
// (SQLite's group commit), so that a long Write delays the writes that
// commit with it: background work should then write in small pieces.
func (d *DB) SharesCommits() bool { return d.gc != nil }

// Exec runs a statement.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmts.get(ctx, t.q, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.q.ExecContext(ctx, t.db.SQL(q), args...)
}

// Query runs a query inside the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmts.get(ctx, t.q, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.q.QueryContext(ctx, t.db.SQL(q), args...)
}

// QueryRow runs a query returning at most one row inside the transaction.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmts.get(ctx, t.q, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.q.QueryRowContext(ctx, t.db.SQL(q), args...)
}

// Prepare prepares a statement for repeated use inside the transaction;
// the caller closes it.
func (t *Tx) Prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.q.PrepareContext(ctx, t.db.SQL(q))
}

// Write runs fn in a write transaction and returns once its work is durably
// committed, or fn's error (in which case none of fn's work is kept). On
// SQLite, concurrent callers share one transaction and one fsync; fn must
// therefore not assume it is alone in the transaction, and must not call
// Write itself.
func (d *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.gc != nil {
		return d.gc.submit(ctx, fn)
	}
	return writeOn(ctx, d, d.write, fn)
}

// WriteKeyed is Write for work whose every statement is keyed (see
// QueryKeyed) — inserts, and reads and updates by key: on PostgreSQL its
// transaction runs on the keyed pool, where each statement is planned once
// per connection; on SQLite it is Write.
func (d *DB) WriteKeyed(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.gc != nil {
		return d.gc.submit(ctx, fn)
	}
	return writeOn(ctx, d, d.keyed, fn)
}

// writeOn runs fn in a transaction of its own on pool (PostgreSQL).
func writeOn(ctx context.Context, d *DB, pool *sql.DB, fn func(*Tx) error) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := runGuarded(fn, &Tx{q: tx, db: d, conn: conn}); err != nil {
		_ = tx.Rollback() // the original error matters more
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func runGuarded(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in transaction: %v", r)
		}
	}()
	return fn(tx)
}

// IsUniqueViolation reports whether err is a unique-constraint failure.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// IsForeignKeyViolation reports whether err is a foreign-key failure.
func IsForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "FOREIGN KEY constraint failed") || strings.Contains(s, "SQLSTATE 23503")
}

// SubtreeRange returns the bounds [lo, hi) of every materialised path that
// starts with path (which ends in "/"): "col >= lo AND col < hi" is one index
// range scan on both engines (path columns use byte order: PostgreSQL's
// COLLATE "C").
func SubtreeRange(path string) (lo, hi string) {
	if path == "" || path[len(path)-1] != '/' {
		return path, path + "\x00"
	}
	return path, path[:len(path)-1] + "0" // '0' is the byte after '/'
}

// Now returns the current time in Unix milliseconds, the storage form of
// every timestamp.
func Now() int64 { return time.Now().UnixMilli() }

// Millis converts t to the storage form.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// Time converts a stored timestamp back to a time in UTC.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Backup writes a consistent copy of a SQLite database to path (which must
// not exist) while the server keeps running. PostgreSQL deployments use
// pg_dump or their provider's backups; Backup returns an error there.
func (d *DB) Backup(ctx context.Context, path string) error {
	if d.Dialect != SQLite {
		return errors.New("backup: use pg_dump for PostgreSQL (see docs/OPERATIONS.md)")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	}
	// VACUUM INTO reads one snapshot and writes a compact, self-contained
	// file; it runs on a reader, outside any transaction.
	conn, err := d.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), "PRAGMA query_only = 1") //nolint:errcheck // the connection is reused only if this succeeds
	_, err = conn.ExecContext(ctx, "VACUUM INTO ?", path)
	return err
}

// Analyze gathers planner statistics for table (every table when "";
// otherwise a plain identifier). On SQLite it keeps only sqlite_stat1:
// with the STAT4 samples this SQLite build collects, every statement whose
// plan could depend on a bound value is re-prepared on each run, which
// defeats the statement cache and costs more than the samples save.
func (d *DB) Analyze(ctx context.Context, table string) error {
	for _, c := range table {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Errorf("analyze: bad table name %q", table)
		}
	}
	return d.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, strings.TrimSpace("ANALYZE "+table)); err != nil {
			return err
		}
		if d.Dialect != SQLite {
			return nil
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sqlite_stat4"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "ANALYZE sqlite_schema") // reloads the statistics
		return err
	})
}
