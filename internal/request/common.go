package request

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
)

// Common words have no postings. A word found in a large share of all
// requests — a function word ("của", "không"), the boilerplate of a
// petition ("đề nghị phường xử lý"), of an address ("nhà số … đường") —
// is a third of a request's postings and never the word a search is
// driven by: a search walks its rarest word's postings, and a search made
// only of common words reads the scope's requests newest first, where
// such words match densely. search_fold keeps every word, so the LIKE
// conditions that make each result exact still match them; the planner
// (planSearch) neither counts nor walks nor checks the postings of a
// common word, nor expands a prefix that starts a common word.
//
// The list is folded (vntext) and fixed: changing it changes which words
// the stored postings hold, so a word may only be added (postings an
// older version wrote for it are then never read).
var commonWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`
		va cua co la cac duoc cho khong nguoi trong nhung mot voi da nay de ra khi den tu thi theo
		cung nhu nhieu ve lam se tai do lai con dang vao bi roi hay phai moi nen neu rat ma o
		thuoc sau truoc tren duoi ngay nam thang gio luc toi chung ong ba anh chi em ho minh gi
		nao dau sao viec van them hon
		nghi xu ly kien y gop phan giai quyet som
		nha so duong phuong xa quan huyen khu pho to dan ap thon
	`) {
		m[w] = true
	}
	return m
}()

// postedTerms returns the distinct words of a search_fold that have
// postings: foldTerms without the common words.
func postedTerms(fold string) []string {
	ts := foldTerms(fold)
	out := ts[:0]
	for _, t := range ts {
		if !commonWords[t] {
			out = append(out, t)
		}
	}
	return out
}

// startsCommon reports whether prefix starts a common word: its postings
// then do not hold every word it stands for.
func startsCommon(prefix string) bool {
	i, _ := slices.BinarySearch(sortedCommon, prefix) // the first word ≥ prefix
	return i < len(sortedCommon) && strings.HasPrefix(sortedCommon[i], prefix)
}

// Postings written for common words before they were common are purged
// by a job (request.purge_common): once per version of the list, a batch
// of postings a run, each batch committed with the job that enqueues the
// next, so a restart resumes and several instances purge once.
const (
	jobPurgeCommon = "request.purge_common"
	// commonVersion names the list: bump it when a word is added.
	commonVersion = "1"
)

// purgeBatch is the number of postings one purge job deletes at most (a
// variable for tests).
var purgeBatch = 5000

type purgeCommon struct {
	Word string `json:"word"` // the next word whose postings go
	Step int    `json:"step"` // the job's place in the chain: its key
}

// sortedCommon is commonWords in byte order: the words a prefix starts
// are together, and the purge's way through them.
var sortedCommon = func() []string {
	ws := make([]string, 0, len(commonWords))
	for w := range commonWords {
		ws = append(ws, w)
	}
	slices.Sort(ws)
	return ws
}()

// EnqueuePurge schedules the purge of common words' postings for this
// version of the list, unless it was scheduled before; at start.
func (s *Service) EnqueuePurge(ctx context.Context) error {
	return s.d.Write(ctx, func(tx *db.Tx) error {
		return enqueuePurge(ctx, tx, purgeCommon{Word: sortedCommon[0]}, s.now())
	})
}

func enqueuePurge(ctx context.Context, tx *db.Tx, p purgeCommon, at time.Time) error {
	payload, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = jobs.Enqueue(ctx, tx, jobs.New{Kind: jobPurgeCommon, Payload: string(payload), RunAt: at, // due at once
		Key: commonVersion + ":" + strconv.Itoa(p.Step)})
	return err
}

// runPurge deletes up to purgeBatch postings of the job's word and of the
// words after it, and enqueues the rest.
func (s *Service) runPurge(ctx context.Context, tx *db.Tx, j jobs.Job) error {
	var p purgeCommon
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("purge payload: %w", err)
	}
	if _, ok := s.index.(postingIndex); !ok {
		// The text index (fts.go) was built after the list: a common
		// word added later stays in older documents, where no search
		// looks for it.
		return nil
	}
	left := purgeBatch
	i, _ := slices.BinarySearch(sortedCommon, p.Word)
	for ; i < len(sortedCommon) && left > 0; i++ {
		// The word's left-th posting in key order bounds a range delete;
		// with fewer left, all of them go.
		w := sortedCommon[i]
		var c, id int64
		err := tx.QueryRow(ctx, "SELECT created_at, request_id FROM request_terms WHERE term = ? ORDER BY created_at, request_id LIMIT 1 OFFSET ?", w, left-1).Scan(&c, &id)
		if errors.Is(err, sql.ErrNoRows) {
			res, err := tx.Exec(ctx, "DELETE FROM request_terms WHERE term = ?", w)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			left -= int(n)
			continue
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM request_terms WHERE term = ? AND (created_at < ? OR (created_at = ? AND request_id <= ?))", w, c, c, id); err != nil {
			return err
		}
		break // the word may have more
	}
	if i >= len(sortedCommon) {
		return nil
	}
	return enqueuePurge(ctx, tx, purgeCommon{Word: sortedCommon[i], Step: p.Step + 1}, s.now())
}
