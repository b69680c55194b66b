package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/trothu/trothu/internal/db"
)

// enqueueManyMax bounds one multi-row INSERT (and so the statement texts a
// statement cache keeps: one per size).
const enqueueManyMax = 32

// EnqueueMany adds jobs inside tx with one INSERT per enqueueManyMax jobs
// instead of one per job: what a batch of concurrent writers needs on a
// client–server database. Jobs whose (Kind, Key) already exists are
// skipped, as in Enqueue.
func EnqueueMany(ctx context.Context, tx *db.Tx, js []New) error {
	now := db.Now()
	for start := 0; start < len(js); start += enqueueManyMax {
		set := js[start:min(start+enqueueManyMax, len(js))]
		var q strings.Builder
		q.WriteString("INSERT INTO jobs(kind, key, payload, run_at, max_attempts, created_at) VALUES ")
		args := make([]any, 0, len(set)*6)
		for i, j := range set {
			row, err := j.row(now)
			if err != nil {
				return err
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, row...)
		}
		q.WriteString(" ON CONFLICT (kind, key) WHERE key IS NOT NULL DO NOTHING")
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("enqueue %d jobs: %w", len(set), err)
		}
	}
	return nil
}

// EnqueueNew adds jobs whose keys cannot exist yet (they name a row made
// in the same transaction) with db.Tx.InsertNew: on PostgreSQL in one
// COPY, which costs the server much less than INSERTs; on SQLite without
// a statement journal. A key that does exist fails the transaction
// instead of being skipped.
func EnqueueNew(ctx context.Context, tx *db.Tx, js []New) error {
	now := db.Now()
	rows := make([][]any, len(js))
	for i, j := range js {
		row, err := j.row(now)
		if err != nil {
			return err
		}
		rows[i] = row
	}
	if err := tx.InsertNew(ctx, "jobs", []string{"kind", "key", "payload", "run_at", "max_attempts", "created_at"}, rows); err != nil {
		return fmt.Errorf("enqueue %d jobs: %w", len(js), err)
	}
	return nil
}
