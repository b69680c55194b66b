package db

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds a cache: queries are written by hand and few, but a
// query built with a variable number of placeholders must not grow it
// without end. Past the bound, queries run unprepared.
const maxCachedStmts = 1024

// stmtCache keeps prepared statements by query text. A nil cache caches
// nothing (PostgreSQL, where pgx has its own).
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache() *stmtCache { return &stmtCache{stmts: map[string]*sql.Stmt{}} }

// get returns the statement for q prepared on p, preparing it on first
// use; nil means "run it unprepared" (no cache, cache full, or prepare
// failed — the unprepared run then reports the error).
func (c *stmtCache) get(ctx context.Context, p interface {
	PrepareContext(context.Context, string) (*sql.Stmt, error)
}, q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := p.PrepareContext(context.WithoutCancel(ctx), q)
	if err != nil {
		return nil
	}
	c.stmts[q] = st
	return st
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close() // closing a cached statement cannot lose data
		delete(c.stmts, q)
	}
}
