package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// committer is the single SQLite writer. It takes every pending Write,
// runs each in its own savepoint inside one transaction, and commits once,
// so N concurrent writers pay for one fsync instead of N.
type committer struct {
	d        *DB
	conn     *sql.Conn  // the one writer connection, held for the process's life
	stmts    *stmtCache // statements prepared once on conn, reused by every batch
	reqs     chan *writeReq
	maxBatch int
	quit     chan struct{}
	wg       sync.WaitGroup
	closed   sync.Once
}

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

var errClosed = errors.New("database is closed")

func newCommitter(ctx context.Context, d *DB, maxBatch int) (*committer, error) {
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite writer: %w", err)
	}
	c := &committer{d: d, conn: conn, stmts: newStmtCache(), reqs: make(chan *writeReq, maxBatch), maxBatch: maxBatch, quit: make(chan struct{})}
	c.wg.Add(1)
	go c.loop()
	return c, nil
}

func (c *committer) submit(ctx context.Context, fn func(*Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-c.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the work may already be committing: wait for the outcome
	// rather than the context, so a caller never returns "cancelled" for work
	// that was in fact kept.
	return <-r.done
}

func (c *committer) stop() {
	c.closed.Do(func() {
		close(c.quit)
		c.wg.Wait()
		c.stmts.close()
		_ = c.conn.Close() // returns the connection to the pool that Close then closes
	})
}

func (c *committer) loop() {
	defer c.wg.Done()
	batch := make([]*writeReq, 0, c.maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
		case <-c.quit:
			c.drain()
			return
		}
	fill:
		for len(batch) < c.maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.commit(batch)
	}
}

// drain finishes whatever was queued before the stop.
func (c *committer) drain() {
	for {
		select {
		case r := <-c.reqs:
			c.commit([]*writeReq{r})
		default:
			return
		}
	}
}

func (c *committer) commit(batch []*writeReq) {
	errs := make([]error, len(batch))
	ctx := context.Background() // the batch outlives any one caller's context
	if _, err := c.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	rollback := func() { _, _ = c.conn.ExecContext(ctx, "ROLLBACK") } // the callers' errors matter more
	t := &Tx{q: c.conn, db: c.d, stmts: c.stmts}
	alone := len(batch) == 1
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if alone {
			errs[i] = runGuarded(r.fn, t)
			continue
		}
		if _, err := c.conn.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			errs[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		if errs[i] = runGuarded(r.fn, t); errs[i] != nil {
			if _, err := c.conn.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				// The transaction is in an unknown state: give up on all of it.
				rollback()
				for j, r := range batch {
					if j < i || errs[j] == nil {
						r.done <- fmt.Errorf("rollback to savepoint: %w", err)
					} else {
						r.done <- errs[j]
					}
				}
				return
			}
		}
		if _, err := c.conn.ExecContext(ctx, "RELEASE w"); err != nil {
			errs[i] = errors.Join(errs[i], fmt.Errorf("release: %w", err))
		}
	}
	if alone && errs[0] != nil {
		rollback()
		batch[0].done <- errs[0]
		return
	}
	if _, err := c.conn.ExecContext(ctx, "COMMIT"); err != nil {
		rollback()
		for i, r := range batch {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
			r.done <- errs[i]
		}
		return
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}
