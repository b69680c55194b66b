package notice

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// Delivery is a household's copy of a notice: when it reached the household,
// when a member first opened it, and who acknowledged it (a member, or an
// official who told the household in person).
type Delivery struct {
	HouseholdID int64      `json:"household_id"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	SeenAt      *time.Time `json:"seen_at,omitempty"`
	AckedAt     *time.Time `json:"acked_at,omitempty"`
	AckedBy     int64      `json:"acked_by,omitempty"`
	AckName     string     `json:"ack_name,omitempty"`
	AckProxy    bool       `json:"ack_proxy,omitempty"`
	AckNote     string     `json:"ack_note,omitempty"`
}

// Acknowledged reports whether the household has acknowledged.
func (d Delivery) Acknowledged() bool { return d.AckedAt != nil }

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := db.Time(v.Int64)
	return &t
}

// deliveryCols reads a delivery; the acknowledgement columns are NULL
// until the household acknowledges.
const deliveryCols = "household_id, delivered_at, seen_at, acked_at, COALESCE(acked_by, 0), COALESCE(ack_name, ''), COALESCE(ack_proxy, 0), COALESCE(ack_note, '')"

func scanDelivery(r scanner, d *Delivery) error {
	var del, seen, ack sql.NullInt64
	var proxy int
	if err := r.Scan(&d.HouseholdID, &del, &seen, &ack, &d.AckedBy, &d.AckName, &proxy, &d.AckNote); err != nil {
		return err
	}
	d.DeliveredAt, d.SeenAt, d.AckedAt, d.AckProxy = msPtr(del), msPtr(seen), msPtr(ack), proxy == 1
	return nil
}

func delivery(ctx context.Context, q querier, noticeID int64, h household) (Delivery, error) {
	var d Delivery
	err := scanDelivery(q.QueryRow(ctx, "SELECT "+deliveryCols+" FROM notice_deliveries WHERE notice_id = ? AND unit_id = ? AND household_id = ?",
		noticeID, h.unit, h.id), &d)
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, errNoticeNotFound()
	}
	return d, err
}

// household is where a household's deliveries are: its unit (the key of
// notice_deliveries) and the unit's path (which notices reach it).
type household struct {
	id   int64
	unit int64
	path string
}

// householdOf returns the household of p's resident, or ok false.
func (s *Service) householdOf(ctx context.Context, p *account.Principal) (household, bool, error) {
	if p == nil || p.ResidentID == 0 {
		return household{}, false, nil
	}
	var h household
	err := s.d.QueryRow(ctx, "SELECT h.id, h.unit_id, h.unit_path FROM residents r JOIN households h ON h.id = r.household_id WHERE r.id = ?", p.ResidentID).Scan(&h.id, &h.unit, &h.path)
	if errors.Is(err, sql.ErrNoRows) {
		return household{}, false, nil
	}
	return h, err == nil, err
}

// Ack records that p's household has received the notice ("Đã nhận"). The
// first acknowledgement of a household wins; later ones return it
// unchanged. It returns Unauthenticated for an anonymous p and NotFound
// when the notice did not go to p's household.
func (s *Service) Ack(ctx context.Context, p *account.Principal, noticeID int64) (Delivery, error) {
	if p == nil {
		return Delivery{}, apperr.ErrUnauthenticated
	}
	d, _, err := s.ack(ctx, &ackReq{noticeID: noticeID, p: p})
	return d, err
}

// AckToken is Ack for the session of token, authenticated by the
// acknowledgement's own batch, inside its write: the request goes through
// one batch instead of two. On SQLite the writer reads the sessions in the
// group commit (Config.Sessions.AuthenticateTx), from a page cache that no
// commit empties, where a reader starts from an empty one after every
// commit. On PostgreSQL the acknowledgement's UPDATE joins the session
// itself (FreshSessionJoin), one statement and one round trip for both;
// a token it does not find (refused, unknown, or due for its last-seen
// write) goes through Authenticate and Ack. authenticated false means the
// token did not authenticate, and err is then what
// account.Service.Authenticate returns for it.
func (s *Service) AckToken(ctx context.Context, token string, noticeID int64) (d Delivery, authenticated bool, err error) {
	if s.cfg.Sessions == nil {
		return Delivery{}, false, errors.New("notice: AckToken without Config.Sessions")
	}
	req := &ackReq{noticeID: noticeID, token: token}
	if !s.d.SharesCommits() {
		var ok bool
		if req.hash, ok = account.SessionHash(token); !ok {
			return Delivery{}, false, apperr.ErrUnauthenticated
		}
	}
	return s.ack(ctx, req)
}

func (s *Service) ack(ctx context.Context, req *ackReq) (Delivery, bool, error) {
	if req.p != nil && req.p.ResidentID == 0 {
		return Delivery{}, true, errNoticeNotFound()
	}
	// The batch finds the household itself: one read transaction less on
	// the common path, where the acknowledgement is new.
	req.now, req.done = db.Millis(s.cfg.Now()), make(chan ackRes, 1)
	s.acks.Add(req)
	res := <-req.done
	switch {
	case res.retry:
		// PostgreSQL found no fresh session and new acknowledgement for
		// the token: the long way, which finds out which it was.
		p, err := s.cfg.Sessions.Authenticate(ctx, req.token)
		if err != nil {
			return Delivery{}, false, err
		}
		d, err := s.Ack(ctx, p, req.noticeID)
		return d, true, err
	case res.authErr:
		return Delivery{}, false, res.err
	case res.err != nil:
		return Delivery{}, true, res.err
	case res.changed:
		s.householdChanged(ctx, res.d.HouseholdID, req.noticeID)
		s.reachChanged(req.noticeID)
		return res.d, true, nil
	}
	p := req.p // set by the batch for a token on SQLite
	h, ok, err := s.householdOf(ctx, p)
	if err != nil {
		return Delivery{}, true, err
	}
	if !ok {
		return Delivery{}, true, errNoticeNotFound()
	}
	d, err := delivery(ctx, s.d, req.noticeID, h)
	return d, true, err
}

// ProxyAck records that an official told the household in person ("đã
// thông báo trực tiếp"), with a note. It returns Forbidden unless p may
// record proxy acknowledgements on the household's unit, NotFound when the
// notice did not go to the household, and Conflict when the household has
// already acknowledged.
func (s *Service) ProxyAck(ctx context.Context, p *account.Principal, noticeID, householdID int64, note string) (Delivery, error) {
	if p == nil {
		return Delivery{}, apperr.ErrUnauthenticated
	}
	h := household{id: householdID}
	err := s.d.QueryRow(ctx, "SELECT unit_id, unit_path FROM households WHERE id = ?", householdID).Scan(&h.unit, &h.path)
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, apperr.NotFoundf("hộ gia đình", "Household")
	} else if err != nil {
		return Delivery{}, err
	}
	if err := account.Authorize(p, account.ActProxyAck, h.path); err != nil {
		return Delivery{}, err
	}
	note = cleanText(note)
	if utf8.RuneCountInString(note) > 500 {
		return Delivery{}, apperr.InvalidField("note", "Ghi chú tối đa 500 ký tự.", "The note is at most 500 characters.")
	}
	now := db.Millis(s.cfg.Now())
	var d Delivery
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE notice_deliveries SET acked_at = ?, acked_by = ?, ack_name = ?, ack_proxy = 1, ack_note = ?, seen_at = COALESCE(seen_at, ?), delivered_at = COALESCE(delivered_at, ?)
			WHERE notice_id = ? AND unit_id = ? AND household_id = ? AND acked_at IS NULL`, now, p.AccountID, p.Name, note, now, now, noticeID, h.unit, h.id)
		if err != nil {
			return err
		}
		changed, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if d, err = delivery(ctx, tx, noticeID, h); err != nil {
			return err
		}
		if changed == 0 {
			return apperr.New(apperr.Conflict, "Hộ này đã xác nhận nhận thông báo ("+d.AckName+").", "This household has already acknowledged ("+d.AckName+").")
		}
		return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: "notice.proxy_ack", SubjectType: "household",
			SubjectID: strconv.FormatInt(householdID, 10), UnitPath: h.path, Detail: "notice " + strconv.FormatInt(noticeID, 10) + ": " + note})
	})
	if err != nil {
		return Delivery{}, err
	}
	s.householdChanged(ctx, householdID, noticeID)
	s.reachChanged(noticeID)
	return d, nil
}

// markSeen records that a member opened the notice (the first time only).
func (s *Service) markSeen(ctx context.Context, noticeID int64, h household) error {
	now := db.Millis(s.cfg.Now())
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE notice_deliveries SET seen_at = ?, delivered_at = COALESCE(delivered_at, ?)
			WHERE notice_id = ? AND unit_id = ? AND household_id = ? AND seen_at IS NULL`, now, now, noticeID, h.unit, h.id)
		return err
	})
	if err == nil {
		s.householdChanged(ctx, h.id, noticeID) // the other members' inboxes: no longer new
		s.reachChanged(noticeID)
	}
	return err
}

// ackReq is one member's acknowledgement waiting for its batch: of p, or
// of the session of token, which the batch authenticates (AckToken).
type ackReq struct {
	noticeID int64
	p        *account.Principal // the batch finds p's household from p.ResidentID
	token    string
	hash     string // the token's session hash, on PostgreSQL
	now      int64
	done     chan ackRes
}

type ackRes struct {
	d       Delivery
	changed bool
	authErr bool // err is the token's authentication failure
	retry   bool // PostgreSQL: nothing found for the token; Authenticate and Ack
	err     error
}

// Concurrent acknowledgements are committed together (Service.acks, a
// batch.Batcher running commitAcks): every acknowledgement that arrived
// while the previous batch was committing, ackSetMax to a statement, and
// on SQLite every statement in one transaction and one fsync with the
// writer's other work — group commit, on PostgreSQL as on SQLite.
const ackBatchMax = 256

// commitAcks records a batch of acknowledgements, ackSetMax to a
// statement (db.WriteEach: on PostgreSQL each statement a transaction of
// its own, since acknowledgements are independent of each other; on
// SQLite one group commit). The first acknowledgement of a household
// wins: a repeated one changes nothing and reports changed false. Tokens
// (AckToken) are authenticated in the same write: on SQLite their sessions
// are read in the group commit first, and a token that does not
// authenticate fails its own request only; on PostgreSQL each set's UPDATE
// joins them (ackTokenSet), and a token it changed nothing for is retried.
func (s *Service) commitAcks(batch []*ackReq) {
	ctx := context.Background() // the batch outlives any one caller's request
	res := make([]ackRes, len(batch))
	var tokens []string
	var byToken []int // batch index of tokens[k]
	for i, r := range batch {
		if r.p == nil {
			tokens, byToken = append(tokens, r.token), append(byToken, i)
		}
	}
	if len(tokens) > 0 && s.d.SharesCommits() {
		// SQLite: the writer authenticates the sessions in the group
		// commit that records the acknowledgements.
		err := s.d.Write(ctx, func(tx *db.Tx) error {
			ps, errs, err := s.cfg.Sessions.AuthenticateTx(ctx, tx, tokens)
			if err != nil {
				return err
			}
			for k, i := range byToken {
				batch[i].p, res[i].err, res[i].authErr = ps[k], errs[k], errs[k] != nil
				if errs[k] == nil && ps[k].ResidentID == 0 {
					res[i].err = errNoticeNotFound()
				}
			}
			var todo []*ackReq
			var out []*ackRes
			for i, r := range batch {
				if res[i].err == nil {
					todo, out = append(todo, r), append(out, &res[i])
				}
			}
			stmts, _ := ackStatements(todo, out, ackSet)
			for _, st := range stmts {
				if err := tx.Run(ctx, st); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			for i := range res {
				if !res[i].authErr {
					res[i].err = err
				}
			}
		}
	} else {
		// Each statement is a transaction of its own on PostgreSQL: the
		// acknowledgements of principals, then those of tokens.
		var withP, withToken []*ackReq
		var outP, outToken []*ackRes
		for i, r := range batch {
			if r.p != nil {
				withP, outP = append(withP, r), append(outP, &res[i])
			} else {
				withToken, outToken = append(withToken, r), append(outToken, &res[i])
			}
		}
		stmts, of := ackStatements(withP, outP, ackSet)
		tstmts, tof := ackStatements(withToken, outToken, s.ackTokenSet)
		stmts, of = append(stmts, tstmts...), append(of, tof...)
		for k, err := range s.d.WriteEach(ctx, stmts) {
			if err != nil {
				for _, r := range of[k] {
					r.err = err
				}
			}
		}
		for _, r := range outToken {
			r.retry = r.err == nil && !r.changed
		}
	}
	for i, r := range batch {
		r.done <- res[i]
	}
}

// ackStatements returns the statements set builds for batch, ackSetMax
// requests to a statement, and the results each one fills.
func ackStatements(batch []*ackReq, out []*ackRes, set func([]*ackReq, []*ackRes) db.Statement) (stmts []db.Statement, of [][]*ackRes) {
	for start := 0; start < len(batch); start += ackSetMax {
		end := min(start+ackSetMax, len(batch))
		stmts, of = append(stmts, set(batch[start:end], out[start:end])), append(of, out[start:end])
	}
	return stmts, of
}

// ackSetMax bounds one set-based UPDATE (and so the distinct statement
// texts the statement cache keeps: one per db.KeyedSize up to it).
const ackSetMax = 32

// ackUpdate and ackWhere are what ackSet and ackTokenSet share: the first
// acknowledgement of a household wins, and counts as delivered and seen.
// Between them goes the subquery v of (nid, at, acc, name, hid, hunit).
const (
	ackUpdate = `UPDATE notice_deliveries SET acked_at = v.at, acked_by = v.acc, ack_name = v.name,
		seen_at = COALESCE(seen_at, v.at), delivered_at = COALESCE(delivered_at, v.at) FROM `
	ackWhere = ` AS v WHERE notice_deliveries.notice_id = v.nid AND notice_deliveries.unit_id = v.hunit
		AND notice_deliveries.household_id = v.hid AND notice_deliveries.acked_at IS NULL RETURNING `
)

// readAcks returns the Rows of an acknowledgement set: each row is a key
// column, then a delivery; the request first[key(k, d)] gets it.
func readAcks[K any, M comparable](res []*ackRes, first map[M]int, key func(K, Delivery) M) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		for rows.Next() {
			var k K
			var d Delivery
			if err := scanDelivery(prefixed[K]{rows, &k}, &d); err != nil {
				return err
			}
			if i, ok := first[key(k, d)]; ok {
				res[i].d, res[i].changed = d, true
			}
		}
		return nil
	}
}

// ackSet is the statement that records up to ackSetMax acknowledgements,
// whatever their number, and fills res from its rows: an UPDATE … FROM
// over the list, joined to the members' households, instead of a round
// trip per acknowledgement (or per lookup), which is what a client–server
// database pays for. When two members of one household are in the same
// set, the household is acknowledged once (by either) and the other finds
// it already done.
func ackSet(batch []*ackReq, res []*ackRes) db.Statement {
	type key struct{ notice, account int64 }
	first := make(map[key]int, len(batch)) // which request an acknowledgement by (notice, account) answers
	var q strings.Builder
	args := make([]any, 0, len(batch)*5)
	// The set is a VALUES list (columns column1…column5 on both engines): on
	// PostgreSQL it plans in a fraction of the time a UNION ALL of one-row
	// SELECTs took (0.7 against 4.5 ms for 64 rows), and runs in a fifth.
	q.WriteString(ackUpdate + `(SELECT v.column1 AS nid, v.column3 AS at, v.column4 AS acc, v.column5 AS name, h.id AS hid, h.unit_id AS hunit FROM (VALUES `)
	for i, r := range batch {
		if i == 0 {
			q.WriteString("(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT))")
		} else {
			q.WriteString(", (?, ?, ?, ?, ?)")
		}
		args = append(args, r.noticeID, r.p.ResidentID, r.now, r.p.AccountID, r.p.Name)
		if _, dup := first[key{r.noticeID, r.p.AccountID}]; !dup {
			first[key{r.noticeID, r.p.AccountID}] = i
		}
	}
	// Padded to a KeyedSize with rows that match no resident (ids start
	// at 1), so that six statement texts serve every size.
	for range db.KeyedSize(len(batch), ackSetMax) - len(batch) {
		q.WriteString(", (?, ?, ?, ?, ?)")
		args = append(args, int64(0), int64(0), int64(0), int64(0), "")
	}
	// The join is inside the subquery so that only v's columns meet the
	// table's in SET and RETURNING.
	q.WriteString(`) AS v JOIN residents r ON r.id = v.column2 JOIN households h ON h.id = r.household_id)` + ackWhere + "notice_id, " + deliveryCols)
	return db.Statement{Query: q.String(), Args: args, Rows: readAcks(res, first, func(nid int64, d Delivery) key { return key{nid, d.AckedBy} })}
}

// ackTokenSet is ackSet for acknowledgements by session hash, on
// PostgreSQL: the UPDATE joins each hash's fresh session and its account
// (account.Service.FreshSessionJoin), so that one statement authenticates
// and records, and returns the hash with each delivery it changed (SQLite
// cannot return a joined column, which is one reason it authenticates in
// the writer instead). A request it returns nothing for is retried the long
// way (ackRes.retry).
func (s *Service) ackTokenSet(batch []*ackReq, res []*ackRes) db.Statement {
	first := make(map[string]int, len(batch)) // which request a hash answers
	var q strings.Builder
	args := make([]any, 0, len(batch)*3)
	q.WriteString(ackUpdate + `(SELECT v.column1 AS nid, v.column2 AS hash, v.column3 AS at, a.id AS acc, a.name AS name, h.id AS hid, h.unit_id AS hunit FROM (VALUES `)
	for i, r := range batch {
		if i == 0 {
			q.WriteString("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT))")
		} else {
			q.WriteString(", (?, ?, ?)")
		}
		args = append(args, r.noticeID, r.hash, r.now)
		if _, dup := first[r.hash]; !dup {
			first[r.hash] = i
		}
	}
	// Padded to a KeyedSize with rows that match no session.
	for range db.KeyedSize(len(batch), ackSetMax) - len(batch) {
		q.WriteString(", (?, ?, ?)")
		args = append(args, int64(0), "", int64(0))
	}
	q.WriteString(") AS v " + s.cfg.Sessions.FreshSessionJoin("v.column2", "v.column3") + `
		JOIN residents r ON r.id = a.resident_id JOIN households h ON h.id = r.household_id)` + ackWhere + "v.hash, " + deliveryCols)
	return db.Statement{Query: q.String(), Args: args, Rows: readAcks(res, first, func(hash string, _ Delivery) string { return hash })}
}

// prefixed scans a leading column into k, then the rest as the wrapped
// scanner's caller expects.
type prefixed[K any] struct {
	rows *sql.Rows
	k    *K
}

func (p prefixed[K]) Scan(dest ...any) error { return p.rows.Scan(append([]any{p.k}, dest...)...) }
