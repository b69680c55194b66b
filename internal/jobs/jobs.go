// Package jobs is the durable job queue: work that must happen later or be
// retried (a delivery, a deadline, an escalation) is a row in the jobs
// table, written in the same transaction as the change that needs it. Any
// number of instances run workers; a job is claimed with a lease, so it
// runs once at a time, and a job whose worker died is picked up again when
// its lease runs out. Handlers registered with HandleTx mark the job done
// in the same transaction as their own writes, so their database effects
// happen exactly once.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/trothu/trothu/internal/db"
)

// Job is a claimed job as a handler sees it.
type Job struct {
	ID      int64
	Kind    string
	Key     string
	Payload string
	Attempt int // 1 on the first run
}

// New describes a job to enqueue. Key, when set, makes the job unique per
// kind: enqueuing the same (Kind, Key) again does nothing, which is how a
// deadline is scheduled once however many instances try.
type New struct {
	Kind        string
	Key         string
	Payload     string
	RunAt       time.Time // zero: now
	MaxAttempts int       // default 10
}

// row is j's values for INSERT INTO jobs(kind, key, payload, run_at,
// max_attempts, created_at), with the defaults applied: run now, 10
// attempts, no key.
func (j New) row(now int64) ([]any, error) {
	if j.Kind == "" {
		return nil, errors.New("jobs: empty kind")
	}
	runAt := now
	if !j.RunAt.IsZero() {
		runAt = db.Millis(j.RunAt)
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 10
	}
	var key any
	if j.Key != "" {
		key = j.Key
	}
	return []any{j.Kind, key, j.Payload, runAt, j.MaxAttempts, now}, nil
}

// Enqueue adds a job inside tx. It reports false when a job with the same
// kind and key already exists.
func Enqueue(ctx context.Context, tx *db.Tx, j New) (bool, error) {
	row, err := j.row(db.Now())
	if err != nil {
		return false, err
	}
	res, err := tx.Exec(ctx, `INSERT INTO jobs(kind, key, payload, run_at, max_attempts, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, key) WHERE key IS NOT NULL DO NOTHING`, row...)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", j.Kind, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Handler runs a job. Returning an error retries it later with backoff.
type Handler func(ctx context.Context, j Job) error

// TxHandler runs a job inside the transaction that marks it done. It must
// only do database work: on SQLite the transaction is shared with other
// writers (group commit), so slow I/O here would hold them all up.
type TxHandler func(ctx context.Context, tx *db.Tx, j Job) error

// Options tune a Queue.
type Options struct {
	Now      func() time.Time // injectable clock; default time.Now
	Lease    time.Duration    // how long a claim holds; default 2 minutes
	Poll     time.Duration    // idle wait between passes; default 1 s
	Batch    int              // jobs claimed per pass; default 64
	Workers  int              // jobs run at once; default 4
	Logger   *slog.Logger
	WorkerID string // default random
}

// Queue runs the handlers of registered kinds.
type Queue struct {
	d     *db.DB
	opt   Options
	mu    sync.RWMutex
	plain map[string]Handler
	tx    map[string]TxHandler
	wake  chan struct{}
}

// NewQueue returns a queue over d; register handlers, then Run.
func NewQueue(d *db.DB, opt Options) *Queue {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Lease <= 0 {
		opt.Lease = 2 * time.Minute
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Batch <= 0 {
		opt.Batch = 64
	}
	if opt.Workers <= 0 {
		opt.Workers = 4
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.WorkerID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		opt.WorkerID = hex.EncodeToString(b[:])
	}
	return &Queue{d: d, opt: opt, plain: map[string]Handler{}, tx: map[string]TxHandler{}, wake: make(chan struct{}, 1)}
}

// Handle registers h for kind.
func (q *Queue) Handle(kind string, h Handler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.plain[kind] = h
}

// HandleTx registers h for kind; h's writes and the job's completion commit
// together.
func (q *Queue) HandleTx(kind string, h TxHandler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tx[kind] = h
}

// Wake makes a running queue look for due jobs now (after an Enqueue of
// work that is due at once).
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run processes due jobs until ctx ends.
func (q *Queue) Run(ctx context.Context) {
	for {
		n, err := q.RunDue(ctx)
		if err != nil && ctx.Err() == nil {
			q.opt.Logger.Warn("jobs pass", "err", err)
		}
		if n > 0 {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-time.After(q.opt.Poll):
		}
	}
}

// RunDue claims and runs one batch of due jobs of registered kinds and
// returns how many it ran. Tests call it directly with an injected clock.
func (q *Queue) RunDue(ctx context.Context) (int, error) {
	jobs, err := q.claim(ctx)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, q.opt.Workers)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			q.run(ctx, j)
		}()
	}
	wg.Wait()
	return len(jobs), nil
}

func (q *Queue) kinds() []any {
	q.mu.RLock()
	defer q.mu.RUnlock()
	var ks []any
	for k := range q.plain {
		ks = append(ks, k)
	}
	for k := range q.tx {
		ks = append(ks, k)
	}
	return ks
}

// claim leases up to Batch due jobs: candidates are read, then each is
// taken with a conditional UPDATE that only one instance can win.
func (q *Queue) claim(ctx context.Context) ([]Job, error) {
	kinds := q.kinds()
	if len(kinds) == 0 {
		return nil, nil
	}
	now := db.Millis(q.opt.Now())
	in := "?"
	for range kinds[1:] {
		in += ", ?"
	}
	args := append([]any{now, now}, kinds...)
	ids, err := db.Column[int64](q.d.Query(ctx, `SELECT id FROM jobs WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= ?
		AND (locked_until IS NULL OR locked_until < ?) AND kind IN (`+in+`) ORDER BY run_at, id LIMIT `+fmt.Sprint(q.opt.Batch), args...))
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var out []Job
	until := now + q.opt.Lease.Milliseconds()
	err = q.d.Write(ctx, func(tx *db.Tx) error {
		out = out[:0]
		for _, id := range ids {
			res, err := tx.Exec(ctx, `UPDATE jobs SET locked_by = ?, locked_until = ?, attempts = attempts + 1
				WHERE id = ? AND done_at IS NULL AND failed_at IS NULL AND (locked_until IS NULL OR locked_until < ?)`, q.opt.WorkerID, until, id, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue // another instance won it
			}
			var j Job
			var key sql.NullString
			if err := tx.QueryRow(ctx, "SELECT id, kind, key, payload, attempts FROM jobs WHERE id = ?", id).Scan(&j.ID, &j.Kind, &key, &j.Payload, &j.Attempt); err != nil {
				return err
			}
			j.Key = key.String
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

func (q *Queue) run(ctx context.Context, j Job) {
	q.mu.RLock()
	ph, th := q.plain[j.Kind], q.tx[j.Kind]
	q.mu.RUnlock()
	var err error
	switch {
	case th != nil:
		err = q.d.Write(ctx, func(tx *db.Tx) error {
			if err := th(ctx, tx, j); err != nil {
				return err
			}
			return q.markDone(ctx, tx, j)
		})
	case ph != nil:
		if err = guard(func() error { return ph(ctx, j) }); err == nil {
			err = q.d.Write(ctx, func(tx *db.Tx) error { return q.markDone(ctx, tx, j) })
		}
	}
	if err != nil {
		q.fail(ctx, j, err)
	}
}

func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

func (q *Queue) markDone(ctx context.Context, tx *db.Tx, j Job) error {
	_, err := tx.Exec(ctx, "UPDATE jobs SET done_at = ?, locked_by = NULL, locked_until = NULL WHERE id = ? AND locked_by = ?",
		db.Millis(q.opt.Now()), j.ID, q.opt.WorkerID)
	return err
}

// Backoff is the wait before retry n (1-based): 2^n seconds, at most an hour.
func Backoff(n int) time.Duration {
	return time.Duration(math.Min(math.Pow(2, float64(n)), 3600)) * time.Second
}

func (q *Queue) fail(ctx context.Context, j Job, cause error) {
	now := q.opt.Now()
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	c := context.WithoutCancel(ctx) // record the failure even while shutting down
	err := q.d.Write(c, func(tx *db.Tx) error {
		_, err := tx.Exec(c, `UPDATE jobs SET locked_by = NULL, locked_until = NULL, last_error = ?,
			run_at = CASE WHEN attempts < max_attempts THEN CAST(? AS BIGINT) ELSE run_at END,
			failed_at = CASE WHEN attempts < max_attempts THEN NULL ELSE CAST(? AS BIGINT) END
			WHERE id = ? AND locked_by = ?`, msg, db.Millis(now.Add(Backoff(j.Attempt))), db.Millis(now), j.ID, q.opt.WorkerID)
		return err
	})
	q.opt.Logger.Warn("job failed", "kind", j.Kind, "id", j.ID, "attempt", j.Attempt, "err", cause)
	if err != nil {
		q.opt.Logger.Error("record job failure", "id", j.ID, "err", err)
	}
}

// Stats counts jobs by state, for metrics and tests.
type Stats struct{ Pending, Done, Failed int }

// Count returns the job counts of one kind.
func Count(ctx context.Context, d *db.DB, kind string) (Stats, error) {
	var s Stats
	err := d.QueryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN done_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0)
		FROM jobs WHERE kind = ?`, kind).Scan(&s.Pending, &s.Done, &s.Failed)
	return s, err
}
