package request

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/vntext"
)

// The search index: request_terms holds one posting (term, created_at,
// request_id, unit_path) per distinct folded word of a request's text, so
// a search walks the postings of its rarest word newest first, bounded by
// recency and by the unit subtree without reading any request row it will
// not show. requests.search_fold keeps the same words as " w1 w2 … wn ",
// so LIKE '% w %' matches a whole word and '% w%' a word's start: the
// conditions that make every result exact, whichever way it was found.

// maxTermLen bounds an indexed word (bytes); longer "words" are noise and
// are only matched through search_fold.
const maxTermLen = 64

// searchFold returns the search_fold of a request's text.
func searchFold(text string) string {
	words := strings.FieldsFunc(vntext.Fold(text), notWordRune)
	if len(words) == 0 {
		return " "
	}
	return " " + strings.Join(words, " ") + " "
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// requestText is the text a request is found by.
func requestText(description, address, typeName string) string {
	return description + " " + address + " " + typeName
}

// foldTerms returns the distinct indexable words of a search_fold (or of
// an older, plain folded text), in order of first appearance.
func foldTerms(fold string) []string {
	words := strings.FieldsFunc(fold, notWordRune)
	seen := make(map[string]bool, len(words))
	out := words[:0:0]
	for _, w := range words {
		if len(w) <= maxTermLen && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// bucket rounds n up to a power of two (at least 8), so statements built
// for n items come in a few shapes and stay in the statement caches.
func bucket(n int) int { return db.KeyedSize(max(n, 8), math.MaxInt) }

// searchIndex is where requests' words are indexed: the postings on
// PostgreSQL (postingIndex, here), SQLite's text index on SQLite
// (textIndex, fts.go). Service.index holds the engine's.
type searchIndex interface {
	// add indexes requests that have no entries yet (the indexer's,
	// which holds their ids).
	add(ctx context.Context, tx *db.Tx, ps []posting) error
	// replace indexes requests anew: old holds each one's entries as they
	// were (its previous words and creation time; no words: none).
	replace(ctx context.Context, tx *db.Tx, ps, old []posting) error
	// vocabulary is the table of the indexed words, by term.
	vocabulary() string
}

// indexFor returns the search index of an engine.
func indexFor(e db.Dialect, words *vocab) searchIndex {
	if e == db.SQLite {
		return textIndex{words}
	}
	return postingIndex{}
}

// postingIndex is request_terms.
type postingIndex struct{}

func (postingIndex) add(ctx context.Context, tx *db.Tx, ps []posting) error {
	return insertNewPostings(ctx, tx, ps)
}

func (postingIndex) replace(ctx context.Context, tx *db.Tx, ps, old []posting) error {
	for _, o := range old {
		if err := deletePostings(ctx, tx, o.id, o.created, o.terms); err != nil {
			return err
		}
	}
	return insertPostings(ctx, tx, ps)
}

func (postingIndex) vocabulary() string { return "request_terms" }

type posting struct {
	id, created int64
	path        string
	terms       []string
}

// insertPostings writes the postings of several requests, in statements
// of at most 1,024 rows (4 parameters a row), in key order: the rows of
// one word go to the same few index pages one after another. Statements
// come in a few sizes, padded by repeating the last row, and skip rows
// already there.
func insertPostings(ctx context.Context, tx *db.Tx, ps []posting) error {
	return writePostings(ctx, tx, ps, false)
}

// insertNewPostings is insertPostings for requests that have none (the
// indexer's, which holds their ids): no conflict handling, which on
// PostgreSQL makes every row a speculative insertion with a third WAL
// record, and no padding — the rows go in statements of power-of-two
// sizes.
func insertNewPostings(ctx context.Context, tx *db.Tx, ps []posting) error {
	return writePostings(ctx, tx, ps, true)
}

// bulkPostings: new postings go in through db.Tx.InsertNew — COPY on
// PostgreSQL, INSERT OR FAIL on SQLite (a variable for
// BenchmarkWritePostings, which compares it with plain INSERTs).
var bulkPostings = true

func writePostings(ctx context.Context, tx *db.Tx, ps []posting, fresh bool) error {
	const maxRows = 1024
	type row struct {
		term    string
		created int64
		id      int64
		path    string
	}
	var all []row
	for _, p := range ps {
		for _, t := range p.terms {
			all = append(all, row{t, p.created, p.id, p.path})
		}
	}
	slices.SortFunc(all, func(a, b row) int {
		if c := strings.Compare(a.term, b.term); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.created, b.created), cmp.Compare(a.id, b.id))
	})
	if fresh && bulkPostings {
		// On PostgreSQL COPY costs the server about half of what
		// multi-row INSERTs do; on SQLite OR FAIL spares a statement
		// journal (docs/BENCHMARKS.md).
		rows := make([][]any, len(all))
		for i, r := range all {
			rows[i] = []any{r.term, r.created, r.id, r.path}
		}
		return tx.InsertNew(ctx, "request_terms", []string{"term", "created_at", "request_id", "unit_path"}, rows)
	}
	for len(all) > 0 {
		k := min(len(all), maxRows)
		n := bucket(k)
		if fresh {
			for n = 1; 2*n <= k; n *= 2 {
			}
			k = n
		}
		var sb strings.Builder
		sb.WriteString("INSERT INTO request_terms(term, created_at, request_id, unit_path) VALUES ")
		args := make([]any, 0, 4*n)
		for i := range n {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?)")
			r := all[min(i, k-1)] // padding repeats the last row
			args = append(args, r.term, r.created, r.id, r.path)
		}
		if !fresh {
			sb.WriteString(" ON CONFLICT DO NOTHING")
		}
		if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
		all = all[k:]
	}
	return nil
}

// deletePostings removes the postings of request id created at createdMs
// under terms (primary-key deletes).
func deletePostings(ctx context.Context, tx *db.Tx, id, createdMs int64, terms []string) error {
	for len(terms) > 0 {
		k := min(len(terms), 256)
		n := bucket(k)
		args := make([]any, 0, n+2)
		args = append(args, id, createdMs)
		for i := range n {
			args = append(args, terms[min(i, k-1)])
		}
		q := "DELETE FROM request_terms WHERE request_id = ? AND created_at = ? AND term IN (?" + strings.Repeat(", ?", n-1) + ")"
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
		terms = terms[k:]
	}
	return nil
}

type idFold struct {
	id   int64
	fold string
}

// updateFolds sets the search_fold of many requests, up to 128 a statement
// (an UPDATE … FROM a VALUES list, padded with rows that match no request)
// rather than a statement — on PostgreSQL a round trip — each.
func updateFolds(ctx context.Context, tx *db.Tx, folds []idFold) error {
	for len(folds) > 0 {
		k := min(len(folds), 128)
		n := bucket(k)
		var sb strings.Builder
		sb.WriteString("UPDATE requests SET search_fold = v.column2 FROM (VALUES (CAST(? AS BIGINT), CAST(? AS TEXT))")
		sb.WriteString(strings.Repeat(", (?, ?)", n-1))
		sb.WriteString(") AS v WHERE requests.id = v.column1")
		args := make([]any, 0, 2*n)
		for i := range n {
			if i < k {
				args = append(args, folds[i].id, folds[i].fold)
			} else {
				args = append(args, int64(0), "") // ids start at 1
			}
		}
		if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
		folds = folds[k:]
	}
	return nil
}

// reindex rewrites the search_fold and index entries of request id from
// its current text, type and unit (after a re-route). The old entries
// are found from the stored search_fold, at the unchanged creation time.
func (s *Service) reindex(ctx context.Context, tx *db.Tx, id int64) error {
	if err := unqueue(ctx, tx, id); err != nil {
		return err
	}
	var desc, addr, typeName, path, old string
	var created int64
	if err := tx.QueryRow(ctx, `SELECT r.description, r.address, t.name, r.unit_path, r.search_fold, r.created_at
		FROM requests r JOIN request_types t ON t.id = r.type_id WHERE r.id = ?`, id).Scan(&desc, &addr, &typeName, &path, &old, &created); err != nil {
		return notFound(err, "yêu cầu", "Request")
	}
	fold := searchFold(requestText(desc, addr, typeName))
	if fold != old {
		if _, err := tx.Exec(ctx, "UPDATE requests SET search_fold = ? WHERE id = ?", fold, id); err != nil {
			return err
		}
	}
	return s.index.replace(ctx, tx, []posting{{id: id, created: created, path: path, terms: postedTerms(fold)}},
		[]posting{{id: id, created: created, terms: foldTerms(old)}})
}

// jobTypeReindex re-indexes the requests of a renamed type, a batch a
// job: each job's work commits with its completion and enqueues the next
// batch, so a restart resumes where it stopped and nothing runs twice.
const jobTypeReindex = "request.reindex_type"

// typeReindexBatch is the number of requests a type re-index job rewrites
// (a variable for the tests).
var typeReindexBatch = 500

type typeReindex struct {
	TypeID int64 `json:"type_id"`
	After  int64 `json:"after"` // the last request id done
	At     int64 `json:"at"`    // when the rename was saved: tells renames apart
}

func enqueueTypeReindex(ctx context.Context, tx *db.Tx, p typeReindex) error {
	payload, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = jobs.Enqueue(ctx, tx, jobs.New{Kind: jobTypeReindex, Payload: string(payload), RunAt: db.Time(p.At), // due at once
		Key: strconv.FormatInt(p.TypeID, 10) + ":" + strconv.FormatInt(p.At, 10) + ":" + strconv.FormatInt(p.After, 10)})
	return err
}

// runTypeReindex rewrites the search words of the next batch of requests
// of a renamed type.
func (s *Service) runTypeReindex(ctx context.Context, tx *db.Tx, j jobs.Job) error {
	var p typeReindex
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("type re-index payload: %w", err)
	}
	ids, err := db.Column[int64](tx.Query(ctx, "SELECT id FROM requests WHERE type_id = ? AND id > ? ORDER BY id LIMIT ?", p.TypeID, p.After, typeReindexBatch))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.reindex(ctx, tx, id); err != nil {
			return err
		}
	}
	if len(ids) < typeReindexBatch {
		return nil
	}
	p.After = ids[len(ids)-1]
	return enqueueTypeReindex(ctx, tx, p)
}

// backdateTerms moves the index entries of request id back by ms, with
// the request's creation time (call it before the request row moves).
func (s *Service) backdateTerms(ctx context.Context, tx *db.Tx, id, ms int64) error {
	if err := unqueue(ctx, tx, id); err != nil {
		return err
	}
	var fold, path string
	var created int64
	if err := tx.QueryRow(ctx, "SELECT search_fold, created_at, unit_path FROM requests WHERE id = ?", id).Scan(&fold, &created, &path); err != nil {
		return notFound(err, "yêu cầu", "Request")
	}
	return s.index.replace(ctx, tx, []posting{{id: id, created: created - ms, path: path, terms: postedTerms(fold)}},
		[]posting{{id: id, created: created, terms: foldTerms(fold)}})
}

// backfillKey is the setting that marks requests still to index (its
// value: the last id indexed); migration 0006 sets it.
const backfillKey = "request.terms_backfill"

// IndexBacklog indexes the requests stored before the search index
// existed, if any, and clears the mark; at start, before serving. Several
// instances may run it at once (postings are written idempotently).
func (s *Service) IndexBacklog(ctx context.Context) error {
	var v string
	err := s.d.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", backfillKey).Scan(&v)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	}
	after, _ := strconv.ParseInt(v, 10, 64)
	if err := s.Reindex(ctx, after, func(last int64) error {
		return s.d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE settings SET value = ? WHERE key = ?", strconv.FormatInt(last, 10), backfillKey)
			return err
		})
	}); err != nil {
		return err
	}
	return s.d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM settings WHERE key = ?", backfillKey)
		return err
	})
}

// Reindex (re)writes search_fold and the index entries of every request
// with an id above after, 500 requests a transaction, calling done with
// the last id of each. Entries under the previous search_fold words are
// replaced, so it may run over indexed requests too.
func (s *Service) Reindex(ctx context.Context, after int64, done func(last int64) error) error {
	const batch = 500
	for {
		type row struct {
			id, created     int64
			path, old, fold string
		}
		var rs []row
		rows, err := s.d.Query(ctx, `SELECT r.id, r.created_at, r.unit_path, r.search_fold, r.description, r.address, t.name
			FROM requests r JOIN request_types t ON t.id = r.type_id WHERE r.id > ? ORDER BY r.id LIMIT ?`, after, batch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r row
			var desc, addr, typeName string
			if err := rows.Scan(&r.id, &r.created, &r.path, &r.old, &desc, &addr, &typeName); err != nil {
				rows.Close()
				return err
			}
			r.fold = searchFold(requestText(desc, addr, typeName))
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(rs) == 0 {
			return nil
		}
		err = s.d.Write(ctx, func(tx *db.Tx) error {
			// Queued ones are indexed here: the indexer must not add
			// their postings again.
			if _, err := tx.Exec(ctx, "DELETE FROM request_index_queue WHERE request_id > ? AND request_id <= ?", after, rs[len(rs)-1].id); err != nil {
				return err
			}
			ps := make([]posting, 0, len(rs))
			var old []posting
			var folds []idFold
			for _, r := range rs {
				if strings.HasPrefix(r.old, " ") { // indexed before
					old = append(old, posting{id: r.id, created: r.created, terms: foldTerms(r.old)})
				}
				if r.fold != r.old {
					folds = append(folds, idFold{r.id, r.fold})
				}
				ps = append(ps, posting{id: r.id, created: r.created, path: r.path, terms: postedTerms(r.fold)})
			}
			if err := updateFolds(ctx, tx, folds); err != nil {
				return err
			}
			return s.index.replace(ctx, tx, ps, old)
		})
		if err != nil {
			return err
		}
		after = rs[len(rs)-1].id
		if done != nil {
			if err := done(after); err != nil {
				return err
			}
		}
	}
}
