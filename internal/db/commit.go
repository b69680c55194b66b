package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// committer is the single SQLite writer. It runs every pending Write in its
// own savepoint inside one transaction (the first of a transaction needs
// none) and commits once, so N concurrent writers pay for one fsync
// instead of N (group commit).
//
// The fsync is pipelined. The writer connection runs at synchronous=NORMAL,
// so COMMIT writes the transaction's frames to the WAL without syncing it;
// a second goroutine (syncLoop) then fsyncs the WAL file and only after
// that answers the transaction's callers. While that sync runs, the writer
// opens the next transaction and runs the Writes that arrive, but it does
// not commit them until the sync is done: a commit still waits for the
// disk, so transactions are as large as before, but the writer's CPU work
// overlaps the disk's instead of following it. Every acknowledged write is
// therefore on disk exactly as at synchronous=FULL. What differs is
// visibility: readers may see a commit up to one sync (about a millisecond)
// before its callers are answered; a power cut in that window loses it
// together with everything committed after it (the WAL is replayed in
// order), and nothing acknowledged.
type committer struct {
	d        *DB
	conn     *sql.Conn  // the one writer connection, held for the process's life
	stmts    *stmtCache // statements prepared once on conn, reused by every batch
	reqs     chan *writeReq
	maxBatch int
	quit     chan struct{}
	wg       sync.WaitGroup
	closed   sync.Once

	walPath string
	wal     *os.File         // opened at the first sync
	syncs   chan []*writeReq // committed, waiting for the WAL's fsync
	synced  chan struct{}    // one per batch taken from syncs
	syncErr atomic.Pointer[error]
	syncFn  func() error // syncWAL; tests wrap it
}

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

var errClosed = errors.New("database is closed")

func newCommitter(ctx context.Context, d *DB, path string, maxBatch int) (*committer, error) {
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite writer: %w", err)
	}
	c := &committer{
		d: d, conn: conn, stmts: newStmtCache(),
		reqs: make(chan *writeReq, maxBatch), maxBatch: maxBatch, quit: make(chan struct{}),
		walPath: path + "-wal", syncs: make(chan []*writeReq, 1), synced: make(chan struct{}, 1),
	}
	c.syncFn = c.syncWAL
	c.wg.Add(2)
	go c.loop()
	go c.syncLoop()
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
		if c.wal != nil {
			_ = c.wal.Close()
		}
		_ = c.conn.Close() // returns the connection to the pool that Close then closes
	})
}

// loop runs Writes into the open transaction and commits it whenever no
// sync is in flight; see committer.
func (c *committer) loop() {
	defer c.wg.Done()
	defer close(c.syncs)
	tx := &txState{c: c, t: &Tx{q: c.conn, db: c.d, stmts: c.stmts}}
	syncing := false
	quit := c.quit
	for {
		if len(tx.reqs) > 0 && !syncing {
			if tx.commit() {
				syncing = true
			}
			continue
		}
		reqs := c.reqs
		if len(tx.reqs) >= c.maxBatch {
			reqs = nil // full: wait for the sync, then commit
		}
		if quit == nil && !syncing && len(tx.reqs) == 0 && len(c.reqs) == 0 {
			return // stopped, and everything queued before is answered
		}
		select {
		case r := <-reqs:
			tx.run(r)
		case <-c.synced:
			syncing = false
		case <-quit:
			quit = nil
		}
	}
}

// txState is the writer's open transaction and the Writes run in it.
type txState struct {
	c    *committer
	t    *Tx
	open bool
	reqs []*writeReq // run without error, to be committed
}

// run runs r in the open transaction (beginning one if needed). A Write
// that fails is answered at once and leaves nothing behind: the first of a
// transaction rolls the transaction back; later ones roll back to their
// savepoint.
func (s *txState) run(r *writeReq) {
	ctx := context.Background() // the batch outlives any one caller's context
	if err := r.ctx.Err(); err != nil {
		r.done <- err
		return
	}
	if p := s.c.syncErr.Load(); p != nil {
		r.done <- *p
		return
	}
	conn := s.c.conn
	if !s.open {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			r.done <- fmt.Errorf("begin: %w", err)
			return
		}
		s.open = true
	}
	if len(s.reqs) == 0 {
		if err := runGuarded(r.fn, s.t); err != nil {
			s.rollback()
			r.done <- err
			return
		}
		s.reqs = append(s.reqs, r)
		return
	}
	if _, err := conn.ExecContext(ctx, "SAVEPOINT w"); err != nil {
		r.done <- fmt.Errorf("savepoint: %w", err)
		return
	}
	err := runGuarded(r.fn, s.t)
	if err != nil {
		if _, rerr := conn.ExecContext(ctx, "ROLLBACK TO w"); rerr != nil {
			// The transaction is in an unknown state: give up on all of it.
			s.fail(fmt.Errorf("rollback to savepoint: %w", rerr))
			r.done <- err
			return
		}
	}
	if _, rerr := conn.ExecContext(ctx, "RELEASE w"); rerr != nil {
		s.fail(fmt.Errorf("release: %w", rerr))
		r.done <- errors.Join(err, fmt.Errorf("release: %w", rerr))
		return
	}
	if err != nil {
		r.done <- err
		return
	}
	s.reqs = append(s.reqs, r)
}

// commit commits the open transaction and hands its Writes to the syncer;
// it reports whether it did (false: the callers have their error).
func (s *txState) commit() bool {
	if _, err := s.c.conn.ExecContext(context.Background(), "COMMIT"); err != nil {
		s.fail(fmt.Errorf("commit: %w", err))
		return false
	}
	s.open = false
	s.c.syncs <- s.reqs
	s.reqs = nil
	return true
}

// fail rolls the transaction back and answers every Write run in it with err.
func (s *txState) fail(err error) {
	s.rollback()
	for _, r := range s.reqs {
		r.done <- err
	}
	s.reqs = nil
}

func (s *txState) rollback() {
	_, _ = s.c.conn.ExecContext(context.Background(), "ROLLBACK") // the callers' errors matter more
	s.open = false
}

// syncLoop makes each committed batch durable and then answers its callers.
// A failed fsync leaves the file's state unknown (the kernel may have
// dropped the pages it could not write), so after one every later Write
// fails too, until the process restarts and SQLite recovers from the WAL.
func (c *committer) syncLoop() {
	defer c.wg.Done()
	for batch := range c.syncs {
		err := c.syncFn()
		if err != nil {
			err = fmt.Errorf("sync %s: %w", c.walPath, err)
			c.syncErr.CompareAndSwap(nil, &err)
		}
		for _, r := range batch {
			r.done <- err
		}
		c.synced <- struct{}{}
	}
}

func (c *committer) syncWAL() error {
	if p := c.syncErr.Load(); p != nil {
		return *p
	}
	if c.wal == nil {
		f, err := os.OpenFile(c.walPath, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		c.wal = f
	}
	return c.wal.Sync()
}
