package request

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
)

// RegisterJobs registers the deadline, type re-index and purge handlers on the
// queue. Their effects commit with the job's completion, so an escalation
// happens once however many instances run the queue.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	s.queue = q
	q.HandleTx(jobDeadline, s.runDeadline)
	q.HandleTx(jobTypeReindex, s.runTypeReindex)
	q.HandleTx(jobPurgeCommon, s.runPurge)
}

// runDeadline escalates a request whose deadline passed without the work
// it asked for (acknowledgement, resolution); a deadline that was met or
// moved does nothing.
func (s *Service) runDeadline(ctx context.Context, tx *db.Tx, j jobs.Job) error {
	var p deadlinePayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("deadline payload: %w", err)
	}
	r, err := s.load(ctx, tx, p.ID, "vi")
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if !r.Status.Open() {
		return nil
	}
	switch p.What {
	case "ack":
		if err := scheduleDeadline(ctx, tx, r.ID, "resolve", r.ResolveDue); err != nil {
			return err
		}
		if r.AckedAt != nil || db.Millis(r.AckDue) != p.Due {
			return nil
		}
	case "resolve":
		if db.Millis(r.ResolveDue) != p.Due {
			return nil
		}
	default:
		return nil
	}
	return s.escalate(ctx, tx, &r, p.What)
}

// escalate moves a request's escalation one level up from where it is
// handled (or last escalated to): its officials are notified and it
// appears in their queue, marked overdue.
func (s *Service) escalate(ctx context.Context, tx *db.Tx, r *Request, what string) error {
	base := r.EscalatedPath
	if base == "" {
		base = r.UnitPath
		if r.OrgKind != OrgGroupHead {
			// Ward bodies handle it: the level above is above the ward.
			var wardPath string
			if err := tx.QueryRow(ctx, "SELECT path FROM units WHERE id = ?", r.WardID).Scan(&wardPath); err != nil {
				return err
			}
			base = wardPath
		}
	}
	up := parentPath(base)
	if up == "" {
		return nil // nothing above the root
	}
	var name string
	if err := tx.QueryRow(ctx, "SELECT full_name FROM units WHERE id = ?", lastID(up)).Scan(&name); err != nil {
		return err
	}
	now := s.now()
	if _, err := tx.Exec(ctx, "UPDATE requests SET escalated_path = ?, escalation_level = escalation_level + 1, updated_at = ? WHERE id = ?",
		up, db.Millis(now), r.ID); err != nil {
		return err
	}
	label := "tiếp nhận"
	if what == "resolve" {
		label = "xử lý"
	}
	body := fmt.Sprintf("Quá hạn %s; đã chuyển lên %s.", label, name)
	if err := addUpdate(ctx, tx, r.ID, now, 0, "", "escalated", r.Status, false, body); err != nil {
		return err
	}
	// The officials who hold a handling role on the unit above.
	var roles []any
	ph := ""
	for _, role := range account.Roles {
		if (&account.Principal{Grants: []account.Grant{{Role: role, UnitPath: up}}}).Can(account.ActHandleRequests, up) {
			roles = append(roles, string(role))
			if ph != "" {
				ph += ", "
			}
			ph += "?"
		}
	}
	args := append([]any{r.ID, body, db.Millis(now), lastID(up)}, roles...)
	// Written inside the deadline job's transaction: the push jobs publish
	// them too, after this commits.
	return s.insertNotes(ctx, tx, nil, r.ID, "escalated", true, `INSERT INTO request_notifications(account_id, request_id, kind, body, created_at)
		SELECT DISTINCT account_id, CAST(? AS BIGINT), 'escalated', CAST(? AS TEXT), CAST(? AS BIGINT) FROM role_grants WHERE unit_id = ? AND role IN (`+ph+`)`, args...)
}

// Notification is an in-app notice about a request.
type Notification struct {
	ID        int64     `json:"id"`
	RequestID int64     `json:"request_id"`
	Kind      string    `json:"kind"`
	Body      string    `json:"body,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Seen      bool      `json:"seen"`
}

// Notifications returns p's newest request notifications (at most 100).
func (s *Service) Notifications(ctx context.Context, p *account.Principal) ([]Notification, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	rows, err := s.d.Query(ctx, `SELECT id, request_id, kind, body, created_at, seen_at FROM request_notifications
		WHERE account_id = ? ORDER BY id DESC LIMIT 100`, p.AccountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var at int64
		var seen sql.NullInt64
		if err := rows.Scan(&n.ID, &n.RequestID, &n.Kind, &n.Body, &at, &seen); err != nil {
			return nil, err
		}
		n.CreatedAt, n.Seen = db.Time(at), seen.Valid
		out = append(out, n)
	}
	return out, rows.Err()
}

// Stats are a unit's figures over a period.
type Stats struct {
	UnitID           int64   `json:"unit_id"`
	Received         int     `json:"received"`
	Resolved         int     `json:"resolved"`
	OnTimePercent    float64 `json:"on_time_percent"`
	OverdueNow       int     `json:"overdue_now"`
	MedianAckHours   float64 `json:"median_ack_hours"`     // working hours
	MedianResolveHrs float64 `json:"median_resolve_hours"` // working hours
	Satisfaction     float64 `json:"satisfaction"`         // mean rating, 0 when none
	Ratings          int     `json:"ratings"`
}

// UnitStats returns the public statistics of a unit's subtree for
// requests filed since since. It is public. Errors: NotFound (unit).
func (s *Service) UnitStats(ctx context.Context, unitID int64, since time.Time) (Stats, error) {
	u, err := s.areas.Unit(ctx, unitID)
	if err != nil {
		return Stats{}, err
	}
	cond, args, _, err := s.unitScope(ctx, u.Path)
	if err != nil {
		return Stats{}, err
	}
	rows, err := s.d.Query(ctx, `SELECT status, created_at, acked_at, resolved_at, ack_due, resolve_due, COALESCE(rating, 0)
		FROM requests r WHERE `+cond+` AND r.created_at >= ? AND r.merged_into IS NULL`, append(args, db.Millis(since))...)
	if err != nil {
		return Stats{}, err
	}
	defer rows.Close()
	cal := s.Calendar()
	now := s.now()
	st := Stats{UnitID: unitID}
	var acks, ress []float64
	onTime, ratingSum := 0, 0
	for rows.Next() {
		var status Status
		var created, ackDue, resDue int64
		var rating int
		var acked, resolved sql.NullInt64
		if err := rows.Scan(&status, &created, &acked, &resolved, &ackDue, &resDue, &rating); err != nil {
			return Stats{}, err
		}
		st.Received++
		if acked.Valid {
			acks = append(acks, cal.WorkingHoursBetween(db.Time(created), db.Time(acked.Int64)).Hours())
		}
		if resolved.Valid {
			st.Resolved++
			ress = append(ress, cal.WorkingHoursBetween(db.Time(created), db.Time(resolved.Int64)).Hours())
			if resolved.Int64 <= resDue {
				onTime++
			}
		}
		if status.Open() && ((!acked.Valid && db.Millis(now) > ackDue) || db.Millis(now) > resDue) {
			st.OverdueNow++
		}
		if rating > 0 {
			st.Ratings++
			ratingSum += rating
		}
	}
	if err := rows.Err(); err != nil {
		return Stats{}, err
	}
	if st.Resolved > 0 {
		st.OnTimePercent = float64(onTime) * 100 / float64(st.Resolved)
	}
	if st.Ratings > 0 {
		st.Satisfaction = float64(ratingSum) / float64(st.Ratings)
	}
	st.MedianAckHours, st.MedianResolveHrs = median(acks), median(ress)
	return st, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// APIKey is an Open311 integrator's key (the secret is shown once).
type APIKey struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Key       string    `json:"key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked"`
}

func hashKey(k string) string {
	h := sha256.Sum256([]byte(k))
	return hex.EncodeToString(h[:])
}

// CreateAPIKey makes an Open311 API key; the caller needs
// account.ActAdminRequests (p nil: the system, for the demo). The key is
// returned once. Errors: Unauthenticated, Forbidden, Invalid.
func (s *Service) CreateAPIKey(ctx context.Context, p *account.Principal, name string, system bool) (APIKey, error) {
	var by int64
	if !system {
		if err := s.authorizeAdmin(ctx, p); err != nil {
			return APIKey{}, err
		}
		by = p.AccountID
	}
	name = cleanText(name)
	if name == "" || len([]rune(name)) > 100 {
		return APIKey{}, apperr.InvalidField("name", "Vui lòng đặt tên cho khoá (tối đa 100 ký tự).", "Please name the key (at most 100 characters).")
	}
	var b [20]byte
	_, _ = rand.Read(b[:])
	// Base32 letters and digits 2–7: no long digit runs that look like a
	// citizen-ID or phone number in logs.
	k := APIKey{Name: name, Key: strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), CreatedAt: s.now()}
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, "INSERT INTO open311_keys(name, key_hash, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id",
			name, hashKey(k.Key), nullID(by), db.Millis(k.CreatedAt)).Scan(&k.ID); err != nil {
			return err
		}
		e := audit.Entry{ActorID: by, Action: AuditKeyCreate, SubjectType: "open311_key", SubjectID: strconv.FormatInt(k.ID, 10), Detail: name}
		if p != nil {
			e.ActorName = p.Name
		}
		return audit.Log(ctx, tx, e)
	})
	return k, err
}

// APIKeys lists the keys (without secrets). Errors as CreateAPIKey.
func (s *Service) APIKeys(ctx context.Context, p *account.Principal) ([]APIKey, error) {
	if err := s.authorizeAdmin(ctx, p); err != nil {
		return nil, err
	}
	rows, err := s.d.Query(ctx, "SELECT id, name, created_at, revoked_at FROM open311_keys ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		var k APIKey
		var at int64
		var rev sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Name, &at, &rev); err != nil {
			return nil, err
		}
		k.CreatedAt, k.Revoked = db.Time(at), rev.Valid
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key. Errors as CreateAPIKey, plus NotFound.
func (s *Service) RevokeAPIKey(ctx context.Context, p *account.Principal, id int64) error {
	if err := s.authorizeAdmin(ctx, p); err != nil {
		return err
	}
	defer s.cache.keys.clear()
	return s.d.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE open311_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", db.Millis(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.NotFoundf("khoá API", "API key")
		}
		return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: AuditKeyRevoke, SubjectType: "open311_key",
			SubjectID: strconv.FormatInt(id, 10)})
	})
}

// CheckAPIKey returns the name of a valid, unrevoked key, or apperr
// Forbidden.
func (s *Service) CheckAPIKey(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", apperr.ErrForbidden
	}
	h := hashKey(key)
	if name, ok := s.cache.keys.get(h); ok {
		return name, nil
	}
	var name string
	err := s.d.QueryRow(ctx, "SELECT name FROM open311_keys WHERE key_hash = ? AND revoked_at IS NULL", h).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", apperr.ErrForbidden
	}
	if err == nil {
		s.cache.keys.put(h, name)
	}
	return name, err
}

// ByToken returns the id of the request filed with an Open311 token.
func (s *Service) ByToken(ctx context.Context, token string) (int64, error) {
	var id int64
	err := s.d.QueryRow(ctx, "SELECT id FROM requests WHERE token = ?", token).Scan(&id)
	return id, notFound(err, "yêu cầu", "Request")
}

// PublicUpdates returns public updates of public requests, for the Open311
// servicerequestupdates extension: of one request (id ≠ 0) or any, after
// since, oldest first, at most limit.
func (s *Service) PublicUpdates(ctx context.Context, id int64, since, until time.Time, limit int) ([]Update, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT u.id, u.request_id, u.at, u.actor_name, u.kind, u.status, u.public, u.body, u.photo FROM request_updates u
		JOIN requests r ON r.id = u.request_id WHERE u.public = 1 AND r.public = 1 AND u.at >= ? AND u.at < ?`
	args := []any{db.Millis(since), db.Millis(until)}
	if id != 0 {
		q += " AND u.request_id = ?"
		args = append(args, id)
	}
	rows, err := s.d.Query(ctx, q+fmt.Sprintf(" ORDER BY u.at, u.id LIMIT %d", limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Update{}
	for rows.Next() {
		u, err := scanUpdate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
