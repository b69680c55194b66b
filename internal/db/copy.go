package db

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNoCopy is CopyFrom's answer on an engine without a bulk-load
// protocol (SQLite): the caller inserts with statements instead.
var ErrNoCopy = errors.New("db: no COPY on this engine")

// CanCopy reports whether CopyFrom works in the transaction (PostgreSQL):
// a caller with rows to build for it can tell first.
func (t *Tx) CanCopy() bool { return t.conn != nil }

// CopyFrom appends rows to table through PostgreSQL's COPY protocol, in
// the transaction: one round trip carries them all, and the server skips
// the parsing, planning and per-row executor work of an INSERT — what a
// bulk of fresh rows (search postings) is cheapest written with. Rows
// must be new: COPY has no ON CONFLICT. On SQLite it returns ErrNoCopy.
func (t *Tx) CopyFrom(ctx context.Context, table string, cols []string, rows [][]any) error {
	if t.conn == nil {
		return ErrNoCopy
	}
	return t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return ErrNoCopy
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
}

// insertIDsSet bounds the rows of one multi-row INSERT of InsertIDs on
// SQLite (and so the statement texts the writer's cache keeps: one per
// size).
const insertIDsSet = 32

// InsertIDs appends new rows to table, whose primary key is an integer
// column "id" the database assigns, and returns their ids in the order of
// rows. On PostgreSQL it takes the ids from the column's sequence, then
// writes the rows with them through one COPY. On SQLite it writes a
// multi-row INSERT per insertIDsSet rows: the one writer numbers the rows
// of an INSERT consecutively, the last one last_insert_rowid(). Both skip
// RETURNING — on SQLite it would open a statement journal that copies
// every page the insert changes (docs/BENCHMARKS.md).
func (t *Tx) InsertIDs(ctx context.Context, table string, cols []string, rows [][]any) ([]int64, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	if t.db.Dialect == Postgres {
		ids, err := Column[int64](t.Query(ctx, "SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM generate_series(1, ?)", table, len(rows)))
		if err != nil {
			return nil, err
		}
		if len(ids) != len(rows) {
			return nil, fmt.Errorf("insert into %s: %d ids for %d rows", table, len(ids), len(rows))
		}
		withID := make([][]any, len(rows))
		for i, r := range rows {
			withID[i] = append([]any{ids[i]}, r...)
		}
		return ids, t.CopyFrom(ctx, table, append([]string{"id"}, cols...), withID)
	}
	ids := make([]int64, 0, len(rows))
	one := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	for start := 0; start < len(rows); start += insertIDsSet {
		set := rows[start:min(start+insertIDsSet, len(rows))]
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + "(" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(set)*len(cols))
		for i, r := range set {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(one)
			args = append(args, r...)
		}
		res, err := t.Exec(ctx, q.String(), args...)
		if err != nil {
			return nil, err
		}
		last, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		for i := range set {
			ids = append(ids, last-int64(len(set)-1-i))
		}
	}
	return ids, nil
}
