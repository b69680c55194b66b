package account

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// sessionRow is what Authenticate reads for one token: the session, its
// account and the account's grants.
type sessionRow struct {
	p        Principal
	expires  int64
	lastSeen int64
	disabled bool
	found    bool
}

// authQuery reads the session, the account and its grants (a row per
// grant) of one or more token hashes.
const authQuery = `SELECT s.id_hash, s.account_id, s.expires_at, s.last_seen_at, a.phone, a.name, COALESCE(a.resident_id, 0), a.lang, a.disabled,
	COALESCE(g.id, 0), COALESCE(g.role, ''), COALESCE(g.unit_id, 0), COALESCE(g.unit_path, ''), COALESCE(u.name, '')
	FROM sessions s JOIN accounts a ON a.id = s.account_id
	LEFT JOIN role_grants g ON g.account_id = s.account_id LEFT JOIN units u ON u.id = g.unit_id
	WHERE s.id_hash `

// queryFunc runs a read: db.DB.QueryKeyed, or db.Tx.Query inside a write.
type queryFunc func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

// lookupSessions reads the sessions of at most authBatchMax hashes in one
// statement and returns them in the same order (found false for an unknown
// hash).
func lookupSessions(ctx context.Context, query queryFunc, hashes []string) ([]sessionRow, error) {
	out := make([]sessionRow, len(hashes))
	at := make(map[string]int, len(hashes))
	var q strings.Builder
	q.WriteString(authQuery)
	// The list is padded to a KeyedSize by repeating the last hash.
	args := make([]any, max(len(hashes), keyedSize(len(hashes))))
	for i := range args {
		args[i] = hashes[min(i, len(hashes)-1)]
	}
	if len(args) == 1 {
		q.WriteString("= ?")
	} else {
		q.WriteString("IN (")
		for i := range args {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("?")
		}
		q.WriteString(")")
	}
	for i, h := range hashes {
		if _, dup := at[h]; !dup {
			at[h] = i
		}
		out[i].p.Grants = []Grant{}
	}
	// No ORDER BY: the grants are sorted here, which spares the database
	// a sorter on every request.
	rows, err := query(ctx, q.String(), args...) // by token hash and ids only
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	for rows.Next() {
		var h string
		var r sessionRow
		var g Grant
		if err := rows.Scan(&h, &r.p.AccountID, &r.expires, &r.lastSeen, &r.p.Phone, &r.p.Name, &r.p.ResidentID, &r.p.Lang, &r.disabled,
			&g.ID, &g.Role, &g.UnitID, &g.UnitPath, &g.UnitName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		i, ok := at[h]
		if !ok {
			continue
		}
		if !out[i].found {
			r.found = true
			r.p.Grants = out[i].p.Grants
			out[i] = r
		}
		if g.ID != 0 {
			out[i].p.Grants = append(out[i].p.Grants, g)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	for i := range out {
		if g := out[i].p.Grants; len(g) > 1 {
			slices.SortFunc(g, func(a, b Grant) int { return cmp.Compare(a.ID, b.ID) })
		}
	}
	// The same token twice in one batch: both callers get the same session.
	for i, h := range hashes {
		if j := at[h]; j != i {
			out[i] = out[j]
			out[i].p.Grants = append([]Grant{}, out[j].p.Grants...)
		}
	}
	return out, nil
}

// The sessions of concurrent requests are read together (Service.auth, a
// batch.Batcher running readSessions), in one statement per batch, since
// authentication runs on every request. On PostgreSQL every statement is
// a round trip and a plan. On SQLite every read transaction that follows
// a commit starts with an empty page cache (SQLite drops a reader's cache
// when the database changed), so each lookup of its own re-read the same
// dozen pages of sessions, accounts, role_grants and units: under the
// acknowledgement benchmark's writes that was 52 µs a request, 30 % of
// the server's CPU.
type authReq struct {
	hash string
	row  sessionRow
	err  error
	done chan struct{}
}

// authBatchMax bounds the set: statement texts are one per KeyedSize up
// to it.
const authBatchMax = 32

// keyedSize is the padded size of a set of n hashes (see db.KeyedSize).
func keyedSize(n int) int { return db.KeyedSize(n, authBatchMax) }

// lookupBatched returns the session of hash, read with those of the
// concurrent callers.
func (s *Service) lookupBatched(ctx context.Context, hash string) (sessionRow, error) {
	r := &authReq{hash: hash, done: make(chan struct{})}
	s.auth.Add(r)
	select {
	case <-r.done:
		return r.row, r.err
	case <-ctx.Done():
		return sessionRow{}, ctx.Err()
	}
}

// readSessions reads a batch of sessions in one statement.
func (s *Service) readSessions(batch []*authReq) {
	hashes := make([]string, len(batch))
	for i, r := range batch {
		hashes[i] = r.hash
	}
	// The batch outlives any one caller's request.
	rows, err := lookupSessions(context.Background(), s.d.QueryKeyed, hashes)
	for i, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.row = rows[i]
		}
		close(r.done)
	}
}

// AuthenticateTx authenticates tokens as Authenticate does, inside tx: for
// a batch that folds authentication into a write of its own (the notice
// room's acknowledgements on SQLite, where the single writer reads the
// sessions from its own page cache, which no commit empties, while a
// reader starts from an empty one after every commit). It returns a
// principal or an error for each token, in order; err is a failure of the
// whole batch. Sessions due for a last-seen write are written in tx.
func (s *Service) AuthenticateTx(ctx context.Context, tx *db.Tx, tokens []string) (ps []*Principal, errs []error, err error) {
	ps, errs = make([]*Principal, len(tokens)), make([]error, len(tokens))
	hashes := make([]string, 0, len(tokens))
	at := make([]int, 0, len(tokens)) // token index of hashes[k]
	for i, t := range tokens {
		h, ok := SessionHash(t)
		if !ok {
			errs[i] = apperr.ErrUnauthenticated
			continue
		}
		hashes, at = append(hashes, h), append(at, i)
	}
	nowMs := db.Millis(s.now())
	var touch []string
	for start := 0; start < len(hashes); start += authBatchMax {
		end := min(start+authBatchMax, len(hashes))
		rows, err := lookupSessions(ctx, tx.Query, hashes[start:end])
		if err != nil {
			return nil, nil, err
		}
		for k := range rows {
			i, h := at[start+k], hashes[start+k]
			var due bool
			ps[i], due, errs[i] = s.checkSession(&rows[k], h, nowMs)
			if due {
				touch = append(touch, h)
			}
		}
	}
	if err := touchSessions(ctx, tx, nowMs, touch...); err != nil {
		return nil, nil, err
	}
	return ps, errs, nil
}

// touchSessions records that the sessions of hashes were seen at nowMs
// (last_seen_at never moves back).
func touchSessions(ctx context.Context, tx *db.Tx, nowMs int64, hashes ...string) error {
	if len(hashes) == 0 {
		return nil
	}
	args := []any{nowMs, nowMs}
	for _, h := range hashes {
		args = append(args, h)
	}
	// Padded to a power of two by repeating the last hash: a handful of
	// statement texts.
	for n := db.KeyedSize(len(hashes), 1<<20); len(args) < n+2; {
		args = append(args, args[len(args)-1])
	}
	_, err := tx.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE last_seen_at < ? AND id_hash IN (?"+strings.Repeat(", ?", len(args)-3)+")", args...)
	if err != nil {
		return fmt.Errorf("session last seen: %w", err)
	}
	return nil
}

// SessionHash returns what sessions are stored under for token (their
// id_hash), or ok false for a token that cannot be one.
func SessionHash(token string) (hash string, ok bool) {
	if len(token) != tokenLen {
		return "", false
	}
	return hashToken(token), true
}

// FreshSessionJoin returns the joins that find, for the session hash
// expression hash at the instant now (milliseconds), the session s and its
// account a when Authenticate would accept the session and not write its
// last_seen_at: not expired, not idle, seen within the last minute, account
// not disabled. It is for a statement that folds authentication into a
// write of its own on a database server (the notice room's
// acknowledgements on PostgreSQL); whatever it does not find — a session
// refused, unknown or due for its last-seen write — the caller sends
// through Authenticate. TestFreshSessionJoin checks it against
// Authenticate.
func (s *Service) FreshSessionJoin(hash, now string) string {
	idle := strconv.FormatInt(s.cfg.IdleTimeout.Milliseconds(), 10)
	every := strconv.FormatInt(lastSeenEvery.Milliseconds(), 10)
	return "JOIN sessions s ON s.id_hash = " + hash + " AND s.expires_at > " + now + " AND s.last_seen_at > " + now + " - " + idle +
		" AND s.last_seen_at > " + now + " - " + every + " JOIN accounts a ON a.id = s.account_id AND a.disabled = 0"
}
