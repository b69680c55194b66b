package request

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Request is a request as one viewer may see it: the reporter's identity
// only for the officials handling it (and the reporter), the exact
// location of a sensitive type only for them too.
type Request struct {
	ID              int64             `json:"id"`
	Token           string            `json:"-"`
	TypeID          int64             `json:"-"`
	TypeCode        string            `json:"type"`
	TypeName        string            `json:"type_name"`
	WardID          int64             `json:"ward_id"`
	WardCode        string            `json:"ward_code"`
	WardName        string            `json:"ward_name"`
	UnitID          int64             `json:"unit_id"`
	UnitPath        string            `json:"-"`
	UnitName        string            `json:"unit_name"`
	OrgKind         OrgKind           `json:"org_kind"`
	Agency          string            `json:"agency"`
	Status          Status            `json:"status"`
	Priority        string            `json:"priority"`
	Public          bool              `json:"public"`
	Description     string            `json:"description"`
	Address         string            `json:"address,omitempty"`
	Lat             *float64          `json:"lat,omitempty"`
	Lon             *float64          `json:"lon,omitempty"`
	Blurred         bool              `json:"location_blurred,omitempty"`
	Attrs           map[string]string `json:"attributes"`
	ReporterName    string            `json:"reporter_name,omitempty"`
	ReporterPhone   string            `json:"reporter_phone,omitempty"`
	Anonymous       bool              `json:"anonymous"`
	Channel         string            `json:"channel,omitempty"`
	AssigneeID      int64             `json:"assignee_id,omitempty"`
	AssigneeName    string            `json:"assignee_name,omitempty"`
	MergedInto      int64             `json:"merged_into,omitempty"`
	EscalationLevel int               `json:"escalation_level"`
	EscalatedTo     string            `json:"escalated_to,omitempty"`
	EscalatedPath   string            `json:"-"`
	Overdue         bool              `json:"overdue"`
	AckDue          time.Time         `json:"ack_due"`
	ResolveDue      time.Time         `json:"resolve_due"`
	AckedAt         *time.Time        `json:"acknowledged_at,omitempty"`
	ResolvedAt      *time.Time        `json:"resolved_at,omitempty"`
	ClosedAt        *time.Time        `json:"closed_at,omitempty"`
	ScheduledAt     *time.Time        `json:"scheduled_at,omitempty"`
	Rating          int               `json:"rating,omitempty"`
	RatingComment   string            `json:"rating_comment,omitempty"`
	Followers       int               `json:"followers"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	// What the viewer may do.
	Mine      bool `json:"mine"`
	Following bool `json:"following"`
	CanHandle bool `json:"can_handle"`

	reporterID int64
	sensitive  bool
}

const requestCols = `r.id, r.token, r.type_id, t.code, t.name, t.name_en, t.sensitive, r.ward_id, w.code, w.full_name, r.unit_id, r.unit_path, u.full_name,
	r.org_kind, r.agency, r.status, r.priority, r.public, r.description, r.address, r.lat, r.lon, r.attrs,
	COALESCE(r.reporter_id, 0), r.reporter_name, r.reporter_phone, r.anonymous, r.channel, COALESCE(r.assignee_id, 0), COALESCE(a.name, ''),
	COALESCE(r.merged_into, 0), r.escalation_level, COALESCE(r.escalated_path, ''), COALESCE(eu.full_name, ''),
	r.ack_due, r.resolve_due, r.acked_at, r.resolved_at, r.closed_at, r.scheduled_at, COALESCE(r.rating, 0), r.rating_comment,
	(SELECT COUNT(*) FROM request_followers f WHERE f.request_id = r.id), r.created_at, r.updated_at`

const requestFrom = ` FROM requests r JOIN request_types t ON t.id = r.type_id JOIN units w ON w.id = r.ward_id JOIN units u ON u.id = r.unit_id
	LEFT JOIN accounts a ON a.id = r.assignee_id LEFT JOIN units eu ON eu.path = r.escalated_path`

func scanRequest(sc interface{ Scan(...any) error }, r *Request, lang string) error {
	var sens, pub, anon int
	var nameEN, attrs string
	var lat, lon sql.NullFloat64
	var ack, res, closed, sched sql.NullInt64
	var ackDue, resDue, created, updated int64
	if err := sc.Scan(&r.ID, &r.Token, &r.TypeID, &r.TypeCode, &r.TypeName, &nameEN, &sens, &r.WardID, &r.WardCode, &r.WardName, &r.UnitID, &r.UnitPath, &r.UnitName,
		&r.OrgKind, &r.Agency, &r.Status, &r.Priority, &pub, &r.Description, &r.Address, &lat, &lon, &attrs,
		&r.reporterID, &r.ReporterName, &r.ReporterPhone, &anon, &r.Channel, &r.AssigneeID, &r.AssigneeName,
		&r.MergedInto, &r.EscalationLevel, &r.EscalatedPath, &r.EscalatedTo,
		&ackDue, &resDue, &ack, &res, &closed, &sched, &r.Rating, &r.RatingComment, &r.Followers, &created, &updated); err != nil {
		return err
	}
	if lang == "en" && nameEN != "" {
		r.TypeName = nameEN
	}
	r.sensitive, r.Public, r.Anonymous = sens == 1, pub == 1, anon == 1
	if lat.Valid && lon.Valid {
		r.Lat, r.Lon = &lat.Float64, &lon.Float64
	}
	r.Attrs = map[string]string{}
	_ = json.Unmarshal([]byte(attrs), &r.Attrs) // written by this package as an object
	r.AckDue, r.ResolveDue, r.CreatedAt, r.UpdatedAt = db.Time(ackDue), db.Time(resDue), db.Time(created), db.Time(updated)
	opt := func(n sql.NullInt64) *time.Time {
		if !n.Valid {
			return nil
		}
		t := db.Time(n.Int64)
		return &t
	}
	r.AckedAt, r.ResolvedAt, r.ClosedAt, r.ScheduledAt = opt(ack), opt(res), opt(closed), opt(sched)
	return nil
}

// overdue reports whether an open request has passed a deadline at now.
func (r *Request) overdue(now time.Time) bool {
	if !r.Status.Open() {
		return false
	}
	return (r.AckedAt == nil && now.After(r.AckDue)) || now.After(r.ResolveDue)
}

// redact shapes r for the viewer p.
func (r *Request) redact(p *account.Principal, now time.Time) {
	r.Overdue = r.overdue(now)
	r.CanHandle = handles(p, r.UnitPath, r.EscalatedPath)
	r.Mine = p != nil && r.reporterID != 0 && r.reporterID == p.AccountID
	if r.CanHandle {
		if r.Anonymous {
			r.ReporterName, r.ReporterPhone = "", ""
		}
		return
	}
	if !r.Mine {
		r.ReporterName, r.ReporterPhone, r.Channel = "", "", ""
		r.AssigneeID = 0
		r.RatingComment = ""
		if r.sensitive && r.Lat != nil {
			la, lo := blur(*r.Lat), blur(*r.Lon)
			r.Lat, r.Lon, r.Blurred = &la, &lo, true
			r.Address = ""
		}
	}
}

// listView is redact for lists: phone numbers masked even for officials
// (the detail view shows them, audited).
func (r *Request) listView(p *account.Principal, now time.Time) {
	r.redact(p, now)
	if r.ReporterPhone != "" && !r.Mine {
		r.ReporterPhone = vntext.MaskPhone(r.ReporterPhone)
	}
}

// blur rounds a coordinate to about 300 m.
func blur(v float64) float64 { return float64(int64(v*333+0.5)) / 333 }

// canSee reports whether p may see r at all: public requests are open to
// anyone; private ones to the reporter, followers and the officials.
func (s *Service) canSee(ctx context.Context, p *account.Principal, r *Request) (bool, error) {
	if r.Public || r.CanHandle || r.Mine {
		return true, nil
	}
	if p == nil {
		return false, nil
	}
	var n int
	err := s.d.QueryRow(ctx, "SELECT COUNT(*) FROM request_followers WHERE request_id = ? AND account_id = ?", r.ID, p.AccountID).Scan(&n)
	return n > 0, err
}

// Get returns a request as p may see it (p may be nil: public requests).
// An official's view of the reporter's identity is audited. It returns
// apperr NotFound when the request does not exist or p may not see it.
func (s *Service) Get(ctx context.Context, p *account.Principal, id int64) (Request, error) {
	r, err := s.load(ctx, s.d, id, langOf(p))
	if err != nil {
		return Request{}, err
	}
	r.redact(p, s.now())
	ok, err := s.canSee(ctx, p, &r)
	if err != nil {
		return Request{}, err
	}
	if !ok {
		return Request{}, errRequestNotFound()
	}
	if p != nil {
		var n int
		if err := s.d.QueryRow(ctx, "SELECT COUNT(*) FROM request_followers WHERE request_id = ? AND account_id = ?", id, p.AccountID).Scan(&n); err != nil {
			return Request{}, err
		}
		r.Following = n > 0
	}
	if r.CanHandle && !r.Mine && r.ReporterPhone != "" {
		if err := audit.Record(ctx, s.d, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: AuditReporterViewed,
			SubjectType: "request", SubjectID: strconv.FormatInt(id, 10), UnitPath: r.UnitPath}); err != nil {
			return Request{}, err
		}
	}
	return r, nil
}

// AuditReporterViewed records an official's view of a reporter's identity.
const AuditReporterViewed = "request.reporter_viewed"

func langOf(p *account.Principal) string {
	if p != nil {
		return p.Lang
	}
	return "vi"
}

func (s *Service) load(ctx context.Context, q querier, id int64, lang string) (Request, error) {
	var r Request
	err := scanRequest(q.QueryRow(ctx, "SELECT "+requestCols+requestFrom+" WHERE r.id = ?", id), &r, lang)
	return r, notFound(err, "yêu cầu", "Request")
}

// Update is an entry of a request's timeline.
type Update struct {
	ID        int64     `json:"id"`
	RequestID int64     `json:"request_id"`
	At        time.Time `json:"at"`
	ActorName string    `json:"actor_name,omitempty"`
	Kind      string    `json:"kind"`
	Status    Status    `json:"status"`
	Public    bool      `json:"public"`
	Body      string    `json:"body,omitempty"`
	Photo     string    `json:"photo,omitempty"`
}

// Timeline returns the updates of a request p may see, oldest first:
// internal notes only for the officials handling it. Errors as Get.
func (s *Service) Timeline(ctx context.Context, p *account.Principal, id int64) ([]Update, error) {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	q := "SELECT id, request_id, at, actor_name, kind, status, public, body, photo FROM request_updates WHERE request_id = ?"
	if !r.CanHandle {
		q += " AND public = 1"
	}
	rows, err := s.d.Query(ctx, q+" ORDER BY id LIMIT 500", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	created := Update{RequestID: id, At: r.CreatedAt, Kind: "created", Status: StatusNew, Public: true}
	if r.Channel != ChannelBehalf {
		created.ActorName = r.ReporterName // empty unless the viewer may see the reporter
	}
	out := []Update{created}
	for rows.Next() {
		u, err := scanUpdate(rows)
		if err != nil {
			return nil, err
		}
		if !r.CanHandle && u.Kind != "reply" {
			u.ActorName = "" // officials' names appear on their replies only
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func scanUpdate(sc interface{ Scan(...any) error }) (Update, error) {
	var u Update
	var at int64
	var pub int
	err := sc.Scan(&u.ID, &u.RequestID, &at, &u.ActorName, &u.Kind, &u.Status, &pub, &u.Body, &u.Photo)
	u.At, u.Public = db.Time(at), pub == 1
	return u, err
}

// Nearby returns open public requests of the same type within the
// configured radius and window of the point: the resident can follow one
// instead of filing a duplicate. It reads the (ward_id, created_at) index
// over the wards around the point (wardsAround) — an index on location
// would cost every filed request a write at a random page of it.
func (s *Service) Nearby(ctx context.Context, p *account.Principal, typeCode string, lat, lon float64) ([]Request, error) {
	t, err := s.TypeByCode(ctx, typeCode)
	if err != nil {
		return nil, err
	}
	r := s.cfg.NearbyRadius
	dLat := r / 111320
	dLon := r / (111320 * cosDeg(lat))
	out := []Request{}
	wards, err := s.wardsAround(ctx, lat, lon, dLat, dLon)
	if err != nil || len(wards) == 0 {
		return out, err
	}
	now := s.now()
	args := make([]any, 0, len(wards)+6)
	for _, id := range wards {
		args = append(args, id)
	}
	args = append(args, db.Millis(now.Add(-s.cfg.NearbyWindow)), t.ID, lat-dLat, lat+dLat, lon-dLon, lon+dLon)
	rows, err := s.d.Query(ctx, "SELECT "+requestCols+requestFrom+` WHERE r.ward_id IN (?`+strings.Repeat(", ?", len(wards)-1)+`) AND r.created_at >= ?
		AND r.type_id = ? AND r.lat BETWEEN ? AND ? AND r.lon BETWEEN ? AND ?
		AND r.public = 1 AND r.status IN ('new', 'acknowledged', 'in_progress', 'scheduled', 'reopened')
		ORDER BY r.created_at DESC, r.id DESC LIMIT 20`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var q Request
		if err := scanRequest(rows, &q, langOf(p)); err != nil {
			return nil, err
		}
		if q.Lat == nil || distance(lat, lon, *q.Lat, *q.Lon) > r {
			continue
		}
		q.listView(p, now)
		out = append(out, q)
	}
	return out, rows.Err()
}

// wardsAround returns the ids of this deployment's wards that hold the
// point or one of eight points around it on the ellipse of half-axes dLat
// and dLon (the radius, in degrees) — those a circle of that radius
// reaches, but for a ward that only a sliver of the circle between two
// neighbouring points enters (at 200 m, less than 155 m of arc). Without
// ward boundaries there is no ward to read: routing by location is off
// then too.
func (s *Service) wardsAround(ctx context.Context, lat, lon, dLat, dLon float64) ([]int64, error) {
	lb := s.locator.Load()
	if lb == nil {
		return nil, nil
	}
	var ids []int64
	for i := -1; i < 8; i++ {
		plat, plon := lat, lon
		if i >= 0 {
			a := float64(i) * math.Pi / 4
			plat, plon = lat+dLat*math.Sin(a), lon+dLon*math.Cos(a)
		}
		w, ok := lb.Locate(plon, plat)
		if !ok {
			continue
		}
		u, err := s.wardByCode(ctx, w.Code)
		if apperr.CodeOf(err) == apperr.NotFound || apperr.CodeOf(err) == apperr.Invalid {
			continue // a ward this deployment does not serve
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, u.ID) {
			ids = append(ids, u.ID)
		}
	}
	return ids, nil
}

// LatestReplies returns the newest public reply of each request, by id
// (Open311's status_notes).
func (s *Service) LatestReplies(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = "?", id
	}
	rows, err := s.d.Query(ctx, "SELECT request_id, body FROM request_updates WHERE public = 1 AND kind = 'reply' AND request_id IN ("+strings.Join(ph, ", ")+") ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, err
		}
		out[id] = body
	}
	return out, rows.Err()
}

// HasPhoto reports whether p may see the photo name on request id: the
// request is visible to p and the photo is on an update p may see.
func (s *Service) HasPhoto(ctx context.Context, p *account.Principal, id int64, name string) (bool, error) {
	tl, err := s.Timeline(ctx, p, id)
	if err != nil {
		return false, err
	}
	for _, u := range tl {
		if u.Photo == name {
			return true, nil
		}
	}
	return false, nil
}
