package request

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
)

// intakeRow is one validated, routed request waiting to be written.
type intakeRow struct {
	vals     []any // the requests columns of intakeColumns, in order
	token    string
	photos   []string
	reporter int64
	at       int64 // created_at
	ackDue   int64
	id       int64 // set once written
}

// intakeColumns are the requests columns of intakeRow.vals, in order.
var intakeColumns = strings.Fields(`token type_id ward_id unit_id unit_path org_kind agency status priority public
	description address lat lon attrs search_fold reporter_id reporter_name reporter_phone anonymous channel filed_by_id
	ack_due resolve_due created_at updated_at`)

// insertRequests writes rows inside tx — the requests themselves
// (db.Tx.InsertIDs: one COPY on PostgreSQL, a multi-row INSERT per 32 on
// SQLite), their photos and followers, and their acknowledge-deadline
// jobs (jobs.EnqueueNew). The resolve deadline is scheduled when the
// request is acknowledged or its acknowledge deadline runs, whichever
// comes first. The timeline's first entry ("created") is the request row
// itself. The search postings are left to the indexer: the batch's ids go
// on its queue in one statement (queueIntake, indexer.go).
func insertRequests(ctx context.Context, tx *db.Tx, rows []*intakeRow) error {
	vals := make([][]any, len(rows))
	for i, r := range rows {
		vals[i] = r.vals
	}
	ids, err := tx.InsertIDs(ctx, "requests", intakeColumns, vals)
	if err != nil {
		return err
	}
	for i, r := range rows {
		r.id = ids[i]
	}
	js := make([]jobs.New, 0, len(rows))
	for _, r := range rows {
		for _, ph := range r.photos {
			if _, err := tx.Exec(ctx, `INSERT INTO request_updates(request_id, at, actor_id, actor_name, kind, status, public, photo) VALUES (?, ?, ?, '', 'photo', 'new', 1, ?)`,
				r.id, r.at, nullID(r.reporter), ph); err != nil {
				return err
			}
		}
		if r.reporter != 0 {
			if _, err := tx.Exec(ctx, "INSERT INTO request_followers(request_id, account_id, created_at) VALUES (?, ?, ?)", r.id, r.reporter, r.at); err != nil {
				return err
			}
		}
		p := deadlinePayload{ID: r.id, What: "ack", Due: r.ackDue}
		raw, _ := json.Marshal(p)
		js = append(js, jobs.New{Kind: jobDeadline, Key: fmt.Sprintf("%d:%s:%d", r.id, p.What, p.Due), Payload: string(raw), RunAt: db.Time(p.Due)})
	}
	if err := queueIntake(ctx, tx, rows); err != nil {
		return err
	}
	return jobs.EnqueueNew(ctx, tx, js)
}

// Concurrent submissions are written together (Service.intake, a
// batch.Batcher running commitIntake): one transaction and a handful of
// set-based statements for every request that arrived while the previous
// batch was committing — group commit, on PostgreSQL as on SQLite, where
// it also saves the single writer a savepoint and a few statements per
// request.
type intakeReq struct {
	row  *intakeRow
	err  error
	done chan struct{}
}

// intakeBatchMax bounds a batch. Batches in flight: batch.Leaders(), one
// per two processors; on two cores one carried as much as four and, on
// PostgreSQL, with a lower p99 (docs/BENCHMARKS.md).
const intakeBatchMax = 128

// writeIntake stores r durably and sets r.id, or returns the error of r's
// own write.
func (s *Service) writeIntake(r *intakeRow) error {
	req := &intakeReq{row: r, done: make(chan struct{})}
	s.intake.Add(req)
	<-req.done
	return req.err
}

// commitIntake writes a batch in one transaction. Should it fail (one bad
// row fails the statement it shares with the others), each request is
// written again on its own, so only the bad one reports an error.
func (s *Service) commitIntake(batch []*intakeReq) {
	ctx := context.Background() // the batch outlives any one caller's request
	rows := make([]*intakeRow, len(batch))
	for i, r := range batch {
		rows[i] = r.row
	}
	// Inserts only: keyed (db.WriteKeyed).
	err := s.d.WriteKeyed(ctx, func(tx *db.Tx) error {
		for _, r := range rows {
			r.id = 0
		}
		return insertRequests(ctx, tx, rows)
	})
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			r.err = s.d.WriteKeyed(ctx, func(tx *db.Tx) error {
				r.row.id = 0
				return insertRequests(ctx, tx, []*intakeRow{r.row})
			})
			close(r.done)
		}
		s.wakeIndexer()
		return
	}
	if err == nil {
		s.wakeIndexer()
	}
	for _, r := range batch {
		r.err = err
		close(r.done)
	}
}
