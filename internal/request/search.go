package request

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// textQuery is a parsed search: every word but the last must be a whole
// word of the request's text, the last the start of one (typing "ngu"
// finds "Nguyễn"). Diacritics, tone placement and đ are folded.
type textQuery struct {
	words  []string // whole words
	prefix string   // the last word's start
	id     int64    // a lone number may also be a request id ("#123")
}

// maxQueryWords bounds the words of a search.
const maxQueryWords = 8

func parseQuery(q string) (textQuery, bool) {
	terms := vntext.SearchTerms(q)
	if len(terms) == 0 {
		return textQuery{}, false
	}
	if len(terms) > maxQueryWords {
		terms = terms[:maxQueryWords]
	}
	tq := textQuery{words: terms[:len(terms)-1], prefix: terms[len(terms)-1]}
	if len(terms) == 1 {
		if id, err := strconv.ParseInt(terms[0], 10, 64); err == nil {
			tq.id = id
		}
	}
	// A whole word also typed as the prefix adds nothing.
	for _, w := range tq.words {
		if strings.HasPrefix(w, tq.prefix) {
			tq.prefix = ""
			break
		}
	}
	return tq, true
}

// conds returns the conditions on r.search_fold that decide a match:
// whatever found a candidate, these make the result exact.
func (tq textQuery) conds() ([]string, []any) {
	var where []string
	var args []any
	for _, w := range tq.words {
		where, args = append(where, "r.search_fold LIKE ?"), append(args, "% "+w+" %")
	}
	if tq.prefix != "" {
		where, args = append(where, "r.search_fold LIKE ?"), append(args, "% "+tq.prefix+"%")
	}
	if tq.id != 0 && len(where) == 1 {
		where[0] = "(r.id = ? OR " + where[0] + ")"
		args = append([]any{tq.id}, args...)
	}
	return where, args
}

// forcePlan makes tests take one way: "scan" (requests in order) or
// "index" (postings, whatever the counts).
var forcePlan string

// probeLimit bounds the index entries a plan reads to count a word's
// postings or a scope's requests: below it, walking them is cheap.
const probeLimit = 2000

// scopeProbeLimit bounds the requests of a scope read in order when every
// word is common: a ward's 90 days (2,500 requests at a million a year in
// 100 wards) are cheaper read than a common word's postings over the
// province, most of them outside the ward.
const scopeProbeLimit = 4 * probeLimit

// termScope says how far a listing's rows may be found through the index:
// paths are the unit subtrees it is bounded by (none: anywhere), and ok is
// false for listings the postings cannot bound (escalated, followed).
type termScope struct {
	paths []string
	ok    bool
	wide  bool // a province or more: never read in order for a search
}

// drive is the index walk chosen for a search: postings p of one word (or
// of the words starting with a prefix), joined to requests r.
type drive struct {
	from  string // postings p, then requests r: ids only (see pageIDs)
	args  []any  // of from, then of where
	where []string
	order string // ORDER BY of the walk
	// text is a walk of SQLite's text index instead (textWalk; in id
	// order, not by creation time): the other fields are unused.
	text *textMatch
	// lastQuery finds the last posting a bounded walk reads (none: the
	// walk is not bounded, or read them all).
	lastQuery string
	lastArgs  []any
}

// walkLimit bounds the postings one page of a search reads when every
// word is common and they rarely meet (two street names): about 10 ms.
// The page may then hold fewer rows than asked, with a cursor to go on.
var walkLimit = 4000 // a variable for tests

// resume returns the cursor after the last posting a bounded walk read,
// or "" when it read them all.
func (s *Service) resume(ctx context.Context, d *drive) (string, error) {
	if d == nil || d.lastQuery == "" {
		return "", nil
	}
	var c, id int64
	err := s.d.QueryRow(ctx, d.lastQuery, d.lastArgs...).Scan(&c, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return encodeCursor(c, id), err
}

// planSearch chooses how to find the newest matches: by walking the
// postings of the query's rarest word (newest first, bounded by recency
// and by unit path, other whole words checked in the index) or, when every
// word is common (commonWords, or many postings) and the scope small, or
// when no word has postings, by walking the scope's requests newest first
// and matching search_fold. It returns nil for the latter, and small when
// it found the scope to hold fewer requests in the window than scanBound
// would read (the bound then needs no probe).
// Counts are probed with at most probeLimit entries each.
func (s *Service) planSearch(ctx context.Context, tq textQuery, sc termScope, scopeCond string, scopeArgs []any, since, until int64, after *cursor) (d *drive, small bool, err error) {
	if !sc.ok || tq.id != 0 || forcePlan == "scan" {
		return nil, false, nil
	}
	// The postings of requests filed a moment ago may still be queued.
	if err := s.indexPending(ctx); err != nil {
		return nil, false, err
	}
	if _, ok := s.index.(textIndex); ok {
		d, err := s.planText(ctx, tq, sc, since, after)
		return d, false, err
	}
	if after != nil && after.byID {
		after = nil // the rows are bounded by id (listWhere)
	}
	timeCond, timeArgs := " AND created_at >= ?", []any{since}
	if until > 0 {
		timeCond, timeArgs = timeCond+" AND created_at < ?", append(timeArgs, until)
	}
	count := func(cond string, args ...any) (int, error) {
		var n int
		err := s.d.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM request_terms WHERE "+cond+timeCond+" LIMIT "+strconv.Itoa(probeLimit)+") x",
			append(args, timeArgs...)...).Scan(&n)
		return n, err
	}
	// The prefix as the words it stands for, when they are few: then it
	// is probed, walked and checked word by word like a whole word.
	var pcond string // condition on a postings alias "x." for the prefix
	var pargs []any
	if tq.prefix != "" && len(tq.prefix) <= maxTermLen && !startsCommon(tq.prefix) {
		words, err := s.expandPrefix(ctx, tq.prefix)
		if err != nil {
			return nil, false, err
		}
		if len(words) == 0 {
			words = []string{tq.prefix} // no such word: nothing matches
		}
		if len(words) <= maxPrefixWords {
			pcond, pargs = "x.term IN (?"+strings.Repeat(", ?", len(words)-1)+")", anys(words)
		} else {
			lo, hi := prefixRange(tq.prefix)
			pcond, pargs = "x.term >= ? AND x.term < ?", []any{lo, hi}
		}
	}
	best, bestN, bestPrefix := "", -1, false
	for _, w := range tq.words {
		if len(w) > maxTermLen || commonWords[w] {
			continue
		}
		n, err := count("term = ?", w)
		if err != nil {
			return nil, false, err
		}
		if bestN < 0 || n < bestN {
			best, bestN = w, n
		}
		if n == 0 {
			break
		}
	}
	if pcond != "" && bestN != 0 {
		n, err := count(strings.ReplaceAll(pcond, "x.", ""), pargs...)
		if err != nil {
			return nil, false, err
		}
		if bestN < 0 || n < bestN {
			bestN, bestPrefix = n, true
		}
	}
	if bestN < 0 {
		return nil, false, nil // only common words (see scanBound)
	}
	if bestN >= probeLimit && forcePlan != "index" {
		// Every word is common. Postings of a prefix can only be read in
		// order of the words; a small scope is quicker read in order; a
		// province or more holds most of the postings anyway.
		if bestPrefix {
			return nil, false, nil
		}
		if !sc.wide {
			var n int
			q := "SELECT COUNT(*) FROM (SELECT 1 FROM requests r WHERE r.created_at >= ?"
			args := []any{since}
			if scopeCond != "" {
				q += " AND " + scopeCond
				args = append(args, scopeArgs...)
			}
			if err := s.d.QueryRow(ctx, q+" LIMIT "+strconv.Itoa(scopeProbeLimit)+") x", args...).Scan(&n); err != nil {
				return nil, false, err
			}
			if n < scopeProbeLimit {
				return nil, true, nil // within scanBound's bound
			}
		}
	}

	d = &drive{order: " ORDER BY p.created_at DESC, p.request_id DESC"}
	if bestPrefix {
		// Several words of one request may start with the prefix: one
		// row per request, sorted (the probe found few).
		sub := "SELECT DISTINCT request_id, created_at, unit_path FROM request_terms x WHERE " + pcond + " AND x.created_at >= ?"
		d.args = append(append(d.args, pargs...), since)
		if until > 0 {
			sub, d.args = sub+" AND x.created_at < ?", append(d.args, until)
		}
		d.from = " FROM (" + sub + ") p CROSS JOIN requests r"
		d.order = " ORDER BY r.created_at DESC, r.id DESC"
	} else {
		// At most walkLimit postings a page: a page that ends there short
		// of its rows carries the cursor of the last posting read.
		sub := "SELECT term, created_at, request_id, unit_path FROM request_terms WHERE term = ? AND created_at >= ?"
		d.args = append(d.args, best, since)
		if until > 0 {
			sub, d.args = sub+" AND created_at < ?", append(d.args, until)
		}
		if after != nil {
			sub, d.args = sub+" AND (created_at < ? OR (created_at = ? AND request_id < ?))", append(d.args, after.created, after.created, after.id)
		}
		sub += " ORDER BY created_at DESC, request_id DESC"
		d.lastQuery = strings.Replace(sub, "SELECT term, created_at, request_id, unit_path", "SELECT created_at, request_id", 1) + " LIMIT 1 OFFSET " + strconv.Itoa(walkLimit-1)
		d.lastArgs = slices.Clone(d.args)
		d.from = " FROM (" + sub + " LIMIT " + strconv.Itoa(walkLimit) + ") p CROSS JOIN requests r"
	}
	if len(sc.paths) > 0 {
		var or []string
		for _, path := range sc.paths {
			lo, hi := db.SubtreeRange(path)
			or, d.args = append(or, "(p.unit_path >= ? AND p.unit_path < ?)"), append(d.args, lo, hi)
		}
		d.where = append(d.where, "("+strings.Join(or, " OR ")+")")
	}
	for _, w := range tq.words {
		if w == best && !bestPrefix || len(w) > maxTermLen || commonWords[w] {
			continue
		}
		d.where = append(d.where, "EXISTS (SELECT 1 FROM request_terms q WHERE q.term = ? AND q.created_at = p.created_at AND q.request_id = p.request_id)")
		d.args = append(d.args, w)
	}
	if pcond != "" && !bestPrefix && strings.Contains(pcond, " IN ") {
		d.where = append(d.where, "EXISTS (SELECT 1 FROM request_terms x WHERE "+pcond+" AND x.created_at = p.created_at AND x.request_id = p.request_id)")
		d.args = append(d.args, pargs...)
	}
	d.where = append(d.where, "r.id = p.request_id")
	return d, false, nil
}

// scanBound returns the last request a search that reads its scope's
// requests in order may read on this page: the scope's scanLimit-th
// newest after the cursor (cond and args: the scope, the time window and
// the cursor), or ok false when there are fewer. Two common words that
// rarely meet would otherwise read the whole window of a province.
func (s *Service) scanBound(ctx context.Context, cond string, args []any, wide bool) (created, id int64, ok bool, err error) {
	limit := scopeProbeLimit
	if wide {
		limit = walkLimit
	}
	q := "SELECT r.created_at, r.id FROM requests r"
	if cond != "" {
		q += " WHERE " + cond
	}
	q += " ORDER BY r.created_at DESC, r.id DESC LIMIT 1 OFFSET " + strconv.Itoa(limit-1)
	err = s.d.ScanSerial(ctx, q, args, &created, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	return created, id, err == nil, err
}

// maxPrefixWords bounds the words a prefix is expanded to (a variable for
// tests).
var maxPrefixWords = 16

// expandPrefix returns the indexed words starting with prefix, at most
// maxPrefixWords+1 (more: the prefix is broad), one index seek each.
func (s *Service) expandPrefix(ctx context.Context, prefix string) ([]string, error) {
	lo, hi := prefixRange(prefix)
	words := s.index.vocabulary()
	return db.Column[string](s.d.Query(ctx, `WITH RECURSIVE v(t) AS (
		SELECT (SELECT MIN(term) FROM `+words+` WHERE term >= ? AND term < ?)
		UNION ALL
		SELECT (SELECT MIN(term) FROM `+words+` WHERE term > v.t AND term < ?) FROM v WHERE v.t IS NOT NULL)
		SELECT t FROM v WHERE t IS NOT NULL LIMIT ?`, lo, hi, hi, maxPrefixWords+1))
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// prefixRange returns the byte range of the words starting with p:
// U+10FFFF encodes as the greatest valid UTF-8 sequence.
func prefixRange(p string) (lo, hi string) { return p, p + "\U0010FFFF" }

// pageIDs runs a search's walk for the ids of one page (at most limit),
// and returns the query that loads those requests in order: two steps, so
// the joins of a listing are planned for a known handful of ids, not for
// a walk whose size no planner can guess (PostgreSQL scanned the units
// table for every row).
func pageIDs(ctx context.Context, q querier, d *drive, where []string, args []any, order string, limit int) (string, []any, error) {
	query := "SELECT r.id" + d.from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.Query(ctx, query+d.order+" LIMIT "+strconv.Itoa(limit), args...)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	ids := []any{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return "", nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	page, pageArgs := idsQuery(ids, order)
	return page, pageArgs, nil
}

// idsQuery returns the query that loads the requests of ids, in order.
func idsQuery(ids []any, order string) (string, []any) {
	if len(ids) == 0 {
		return "SELECT " + requestCols + requestFrom + " WHERE 1 = 0", nil
	}
	for n := bucket(len(ids)); len(ids) < n; {
		ids = append(ids, ids[0]) // a few statement shapes
	}
	return "SELECT " + requestCols + requestFrom + " WHERE r.id IN (?" + strings.Repeat(", ?", len(ids)-1) + ")" + order, ids
}
