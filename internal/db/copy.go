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

// canCopy reports whether CopyFrom works in the transaction (PostgreSQL).
func (t *Tx) canCopy() bool { return t.conn != nil }

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

// insertNewVars bounds the arguments of one multi-row INSERT of InsertNew
// on SQLite.
const insertNewVars = 4096

// InsertNew appends rows that must all be new to table, in the
// transaction: through COPY on PostgreSQL (CopyFrom); on SQLite as
// multi-row INSERT OR FAIL statements of a power-of-two number of rows
// each, so the writer's statement cache keeps a few texts per table. OR
// FAIL rather than the default ABORT spares SQLite the statement journal
// that a multi-row insert in the middle of a transaction otherwise opens —
// a copy of every page the statement changes, about 8 % of the intake
// writer's time (docs/BENCHMARKS.md). A row that already exists fails on
// both engines; on SQLite the rows before it stay in the transaction, so
// the caller must fail its Write with the error (whose rollback discards
// them), never go on after it.
func (t *Tx) InsertNew(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if t.canCopy() {
		return t.CopyFrom(ctx, table, cols, rows)
	}
	per := max(1, insertNewVars/len(cols))
	for len(rows) > 0 {
		n := 1
		for 2*n <= min(len(rows), per) {
			n *= 2
		}
		q, args := valuesInsert("INSERT OR FAIL INTO", table, cols, rows[:n])
		if _, err := t.Exec(ctx, q, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// valuesInsert returns "verb table(cols) VALUES (?, …), …" for rows, and
// their values as its arguments.
func valuesInsert(verb, table string, cols []string, rows [][]any) (string, []any) {
	one := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	var q strings.Builder
	q.WriteString(verb + " " + table + "(" + strings.Join(cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(rows)*len(cols))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(one)
		args = append(args, r...)
	}
	return q.String(), args
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
	for start := 0; start < len(rows); start += insertIDsSet {
		set := rows[start:min(start+insertIDsSet, len(rows))]
		q, args := valuesInsert("INSERT INTO", table, cols, set)
		res, err := t.Exec(ctx, q, args...)
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
