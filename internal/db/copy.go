package db

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNoCopy is CopyFrom's answer on an engine without a bulk-load
// protocol (SQLite): the caller inserts with statements instead.
var ErrNoCopy = errors.New("db: no COPY on this engine")

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
