package request

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/db"
)

// Intake does not write a new request's search postings: its transaction
// adds the request's id to request_index_queue (one small row), and the
// indexer writes the postings of many queued requests at once, sorted by
// term, in transactions of their own. Postings were half of the SQLite
// writer's work per filed request, and most of PostgreSQL's; out of the
// intake transaction they no longer hold up the answer to the resident,
// and on PostgreSQL they go in as plain INSERTs (docs/BENCHMARKS.md).
//
// A search misses nothing: before it reads the postings it indexes every
// request queued when it began (indexPending). The queue is a table, so a
// request committed just before a crash is indexed after the restart.
// Several instances may index at once: each takes different ids (SKIP
// LOCKED on PostgreSQL), and whatever else writes a queued request's
// postings takes it off the queue first (unqueue, Reindex), so every
// posting is written once.

// indexBatch is the number of queued requests one indexer transaction
// indexes at most (a variable for tests); the background indexer takes
// indexChunk at a time, more while the queue keeps growing. On SQLite the
// indexer's work shares the single writer's group commits with intake's:
// 64 requests' postings (about 1,300 rows) hold a commit back a few
// milliseconds, 512 over 20 (intake p99 49–60 ms against 64–78 ms).
var indexBatch = 512

// indexChunk is what the background indexer takes at a time when it
// keeps up.
const indexChunk = 64

// indexLinger is how long the background indexer lets requests gather
// after intake wakes it, so that it writes many at once.
const indexLinger = 50 * time.Millisecond

// indexEvery is how often the background indexer looks at the queue when
// nothing woke it: requests another instance queued, or queued before a
// restart.
const indexEvery = 2 * time.Second

// queueIntake adds rows' ids to the index queue (in intake's transaction;
// the ids are new: db.Tx.InsertNew).
func queueIntake(ctx context.Context, tx *db.Tx, rows []*intakeRow) error {
	ids := make([][]any, len(rows))
	for i, r := range rows {
		ids[i] = []any{r.id}
	}
	return tx.InsertNew(ctx, "request_index_queue", []string{"request_id"}, ids)
}

// paddedIDs returns ids as statement arguments, padded to a bucket size by
// repeating the last one.
func paddedIDs(ids []int64) []any {
	args := make([]any, bucket(len(ids)))
	for i := range args {
		args[i] = ids[min(i, len(ids)-1)]
	}
	return args
}

// unqueue takes request id off the index queue: call it first in a
// transaction that writes the request's postings itself (a re-route, a
// backdate). On PostgreSQL it waits for an indexer that holds the id, so
// the postings that indexer wrote are visible to the statements after it
// and are replaced rather than left behind.
func unqueue(ctx context.Context, tx *db.Tx, id int64) error {
	_, err := tx.Exec(ctx, "DELETE FROM request_index_queue WHERE request_id = ?", id)
	return err
}

// indexQueued writes the postings of up to limit queued requests,
// lowest ids first, and takes them off the queue, in one transaction. It
// returns how many it took (ids of requests that no longer exist count,
// and are dropped).
func (s *Service) indexQueued(ctx context.Context, limit int) (int, error) {
	var n int
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		n = 0
		// Ids another instance is indexing are skipped.
		take := "SELECT request_id FROM request_index_queue ORDER BY request_id LIMIT ?" + tx.SkipLocked()
		ids, err := db.Column[int64](tx.Query(ctx, "DELETE FROM request_index_queue WHERE request_id IN ("+take+") RETURNING request_id", limit))
		if err != nil {
			return err
		}
		n = len(ids)
		var ps []posting
		for len(ids) > 0 {
			k := min(len(ids), 512)
			args := paddedIDs(ids[:k])
			rows, err := tx.Query(ctx, "SELECT id, created_at, unit_path, search_fold FROM requests WHERE id IN (?"+strings.Repeat(", ?", len(args)-1)+")", args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var p posting
				var fold string
				if err := rows.Scan(&p.id, &p.created, &p.path, &fold); err != nil {
					rows.Close()
					return err
				}
				p.terms = postedTerms(fold)
				ps = append(ps, p)
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
			ids = ids[k:]
		}
		return s.index.add(ctx, tx, ps)
	})
	if err != nil {
		s.words.reset() // the words it added may not be there
	}
	return n, err
}

// indexPending indexes every request that was queued when it was called,
// with those the background indexer (of any instance) is writing: a
// search calls it before it reads the postings. With nothing queued it
// costs one index read.
func (s *Service) indexPending(ctx context.Context) error {
	var last int64
	err := s.d.QueryRow(ctx, "SELECT COALESCE(MAX(request_id), 0) FROM request_index_queue").Scan(&last)
	if err != nil || last == 0 {
		return err
	}
	for {
		var one int
		err := s.d.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM request_index_queue WHERE request_id <= ? LIMIT 1) x", last).Scan(&one)
		if err != nil || one == 0 {
			return err
		}
		n, err := s.indexQueued(ctx, indexBatch)
		if err != nil {
			return err
		}
		if n == 0 { // another instance holds them: its commit is near
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

// wakeIndexer tells the background indexer that intake queued requests.
func (s *Service) wakeIndexer() {
	select {
	case s.indexWake <- struct{}{}:
	default:
	}
}

// RunIndexer writes the search postings of queued requests until ctx
// ends: soon after intake queues some, and every indexEvery otherwise.
func (s *Service) RunIndexer(ctx context.Context) {
	t := time.NewTicker(indexEvery)
	defer t.Stop()
	for {
		// Full chunks in a row mean the queue grows faster than chunks
		// drain it: every 8 of them, the chunk doubles.
		size := min(indexChunk, indexBatch)
		if !s.d.SharesCommits() {
			size = indexBatch // intake does not wait for it
		}
		for full := 1; ; full++ {
			n, err := s.indexQueued(ctx, size)
			if err != nil {
				if ctx.Err() == nil {
					s.cfg.Logger.Warn("request search index", "err", err)
				}
				break
			}
			if n < size {
				break
			}
			if full%8 == 0 {
				size = min(2*size, indexBatch)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.indexWake:
			select {
			case <-ctx.Done():
				return
			case <-time.After(indexLinger):
			}
		}
	}
}
