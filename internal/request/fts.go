package request

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"

	"github.com/trothu/trothu/internal/db"
)

// On SQLite the search index is the engine's own: request_fts, an FTS5
// table with one document per request (rowid = the request's id) holding
// its posted words (postedTerms) and a token for every unit of its path,
// so that a search is one FTS5 match — the words, the last one's start,
// one of the scope's units — walked newest id first. FTS5 writes a
// request's document for about a quarter of the CPU the postings cost
// (docs/BENCHMARKS.md), which is what kept SQLite's intake under its
// goal. The table is contentless (the words are in requests.search_fold)
// with contentless_delete, so a re-route or a rename replaces a
// document; detail=none (no positions: a search never asks for a phrase);
// 2- and 3-letter prefix indexes for the short starts typed into a
// search box. A longer start is expanded to the words it stands for
// through request_words, the vocabulary of every word ever indexed.
//
// PostgreSQL keeps request_terms: its GIN index builds whole bitmaps and
// is slow for frequent words (tools/textindex), and the postings are not
// what limits its intake.

// unitToken returns the token of unit id (decimal) in a document: a
// private-use character that no folded word holds, then the id. FTS5's
// ascii tokenizer keeps every non-ASCII character in its token.
func unitToken(id string) string { return "\uE000" + id }

// ftsDoc returns the document of a request with posted words terms under
// unit path.
func ftsDoc(terms []string, path string) string {
	var sb strings.Builder
	for _, t := range terms {
		sb.WriteString(t)
		sb.WriteByte(' ')
	}
	for id := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		if id != "" {
			sb.WriteString(unitToken(id))
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

// ftsQuote quotes a word for an FTS5 match.
func ftsQuote(w string) string { return `"` + strings.ReplaceAll(w, `"`, `""`) + `"` }

// vocab remembers the words this process has written to request_words,
// so the indexer writes only the new ones: after a few thousand requests
// nearly every word is known. It forgets everything when it grows past
// maxVocab (the words are then written again, OR IGNORE).
type vocab struct {
	mu sync.Mutex
	m  map[string]bool
}

const maxVocab = 200000

// unknown returns the distinct words of ps not known to be in
// request_words (all of them for a nil vocab).
func (v *vocab) unknown(ps []posting) []string {
	known := map[string]bool{}
	if v != nil {
		v.mu.Lock()
		defer v.mu.Unlock()
		known = v.m
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		for _, t := range p.terms {
			if !known[t] && !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// reset forgets every word: a transaction that wrote some failed.
func (v *vocab) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m = nil
}

// learn records words written to request_words.
func (v *vocab) learn(words []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m)+len(words) > maxVocab {
		v.m = make(map[string]bool, len(words))
	}
	for _, w := range words {
		v.m[w] = true
	}
}

// addWords adds words to the vocabulary, skipping those it holds.
func addWords(ctx context.Context, tx *db.Tx, words []string) error {
	for len(words) > 0 {
		k := min(len(words), 256)
		n := bucket(k)
		args := make([]any, n)
		for i := range n {
			args[i] = words[min(i, k-1)]
		}
		if _, err := tx.Exec(ctx, "INSERT INTO request_words(term) VALUES (?)"+strings.Repeat(", (?)", n-1)+" ON CONFLICT DO NOTHING", args...); err != nil {
			return err
		}
		words = words[k:]
	}
	return nil
}

// textIndex is request_fts, with the vocabulary request_words; known
// is what this process wrote to the vocabulary.
type textIndex struct{ known *vocab }

// add writes the documents of requests that have none with plain
// inserts (FTS5 does not check that a rowid is new), in statements of a
// power-of-two number of rows, after the words the vocabulary may lack.
// It counts the words as known at once: should the transaction fail, the
// caller forgets them all (vocab.reset), and a word that another write of
// the same group commit skipped meanwhile is written again with the next
// request that holds it.
func (x textIndex) add(ctx context.Context, tx *db.Tx, ps []posting) error {
	words := x.known.unknown(ps)
	if err := addWords(ctx, tx, words); err != nil {
		return err
	}
	x.known.learn(words)
	return writeDocs(ctx, tx, "INSERT", ps)
}

// replace writes every word to the vocabulary (OR IGNORE: these writes
// are rare) and replaces the documents; a document holds no time, so old
// is not needed.
func (x textIndex) replace(ctx context.Context, tx *db.Tx, ps, _ []posting) error {
	if err := addWords(ctx, tx, (*vocab)(nil).unknown(ps)); err != nil {
		return err
	}
	return writeDocs(ctx, tx, "INSERT OR REPLACE", ps)
}

func (textIndex) vocabulary() string { return "request_words" }

func writeDocs(ctx context.Context, tx *db.Tx, verb string, ps []posting) error {
	for len(ps) > 0 {
		n := 1
		for 2*n <= min(len(ps), 512) {
			n *= 2
		}
		args := make([]any, 0, 2*n)
		for _, p := range ps[:n] {
			args = append(args, p.id, ftsDoc(p.terms, p.path))
		}
		if _, err := tx.Exec(ctx, verb+" INTO request_fts(rowid, words) VALUES (?, ?)"+strings.Repeat(", (?, ?)", n-1), args...); err != nil {
			return err
		}
		ps = ps[n:]
	}
	return nil
}

// idSince returns an id below which no request created at or after since
// (ms) is, but for backdated ones (Backdate: demo and benchmark data):
// the least id of the first thousand requests from a minute before it, in
// creation order. Ids grow with creation time up to the moments a request
// waits for the writer; a minute covers that, and a thousand requests
// cover the few a demo moves back. Requests read through it are checked
// against since on the row.
func (s *Service) idSince(ctx context.Context, since int64) (int64, error) {
	var id sql.NullInt64
	err := s.d.QueryRow(ctx, "SELECT MIN(id) FROM (SELECT id FROM requests WHERE created_at >= ? ORDER BY created_at LIMIT 1000) x", since-60000).Scan(&id)
	if err != nil || !id.Valid {
		return 1 << 62, err // none since: nothing to find
	}
	return id.Int64, nil
}

// planText plans a search on SQLite's FTS5 index: nil (read the scope in
// order) when no word of the query has postings — common words, a start
// too short or that starts a common word — or the query is an id.
func (s *Service) planText(ctx context.Context, tq textQuery, sc termScope, since int64, after *cursor) (*drive, error) {
	var parts []string
	for _, w := range tq.words {
		if len(w) <= maxTermLen && !commonWords[w] {
			parts = append(parts, ftsQuote(w))
		}
	}
	if p := tq.prefix; len(p) >= 2 && len(p) <= maxTermLen && !startsCommon(p) {
		if r := []rune(p); len(r) <= 3 {
			parts = append(parts, ftsQuote(p)+"*") // a prefix index
		} else {
			words, err := s.expandPrefix(ctx, p)
			if err != nil {
				return nil, err
			}
			switch {
			case len(words) == 0:
				parts = append(parts, ftsQuote(p)) // no such word: nothing matches
			case len(words) <= maxPrefixWords:
				q := make([]string, len(words))
				for i, w := range words {
					q[i] = ftsQuote(w)
				}
				parts = append(parts, "("+strings.Join(q, " OR ")+")")
			default:
				// A broad start: its first three letters, through their
				// index; search_fold checks the rest.
				parts = append(parts, ftsQuote(string(r[:3]))+"*")
			}
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	// A province or more holds most documents: its rows are bounded by
	// the listing's scope condition instead (a token in every document
	// doubles the work of a match).
	if len(sc.paths) > 0 && !sc.wide {
		q := make([]string, len(sc.paths))
		for i, path := range sc.paths {
			q[i] = ftsQuote(unitToken(strconv.FormatInt(lastID(path), 10)))
		}
		parts = append(parts, "("+strings.Join(q, " OR ")+")")
	}
	low, err := s.idSince(ctx, since)
	if err != nil {
		return nil, err
	}
	t := &textMatch{match: strings.Join(parts, " AND "), low: low}
	if after != nil && after.byID {
		t.below = after.id
	}
	return &drive{text: t}, nil
}

// textMatch is a walk of SQLite's text index: the documents matching
// match with ids from low and below below (0: no bound), newest first.
type textMatch struct {
	match      string
	low, below int64
}

// textFirst is how many documents the first read of a walk takes: a
// page's worth and more, which most searches need no more than.
const textFirst = 128

// textWalk walks t for the ids of at most want requests that also meet
// the listing's where (conditions on requests r), newest first, reading
// at most walkLimit documents. It reads ids, then checks them against the
// rows, a batch at a time, so that it knows where it stopped: next is the
// cursor after the last document read when it read walkLimit of them
// short of want, else "". The ids are read whole before they are checked
// (no connection holds a cursor while another is taken): textFirst
// first (at most half the walk), then the rest of it.
func (s *Service) textWalk(ctx context.Context, t *textMatch, where []string, args []any, want int) (found []int64, next string, err error) {
	read := func(below int64, n int) ([]int64, error) {
		q := "SELECT rowid FROM request_fts WHERE request_fts MATCH ? AND rowid >= ?"
		qa := []any{t.match, t.low}
		if below > 0 {
			q, qa = q+" AND rowid < ?", append(qa, below)
		}
		return db.Column[int64](s.d.Query(ctx, q+" ORDER BY rowid DESC LIMIT "+strconv.Itoa(n), qa...))
	}
	check := func(ids []int64) error {
		for len(ids) > 0 && len(found) < want {
			k := min(len(ids), 512)
			pad := paddedIDs(ids[:k])
			q := "SELECT r.id FROM requests r WHERE r.id IN (?" + strings.Repeat(", ?", len(pad)-1) + ")"
			if len(where) > 0 {
				q += " AND " + strings.Join(where, " AND ")
			}
			got, err := db.Column[int64](s.d.Query(ctx, q+" ORDER BY r.id DESC", append(pad, args...)...))
			if err != nil {
				return err
			}
			found = append(found, got...)
			ids = ids[k:]
		}
		return nil
	}
	first := min(textFirst, max(walkLimit/2, 1))
	ids, err := read(t.below, first)
	if err != nil {
		return nil, "", err
	}
	if err := check(ids); err != nil || len(found) >= want || len(ids) < first {
		return found[:min(len(found), want)], "", err
	}
	if walkLimit > first {
		rest, err := read(ids[len(ids)-1], walkLimit-first)
		if err != nil {
			return nil, "", err
		}
		if err := check(rest); err != nil || len(found) >= want {
			return found[:min(len(found), want)], "", err
		}
		ids = append(ids, rest...)
	}
	if len(ids) == walkLimit { // stopped at the bound, short of want
		return found, encodeIDCursor(ids[len(ids)-1]), nil
	}
	return found, "", nil
}
