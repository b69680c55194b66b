package request

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/media"
	"github.com/trothu/trothu/internal/vntext"
)

// Channels a request arrives by.
const (
	ChannelWeb     = "web"
	ChannelAPI     = "api"
	ChannelOpen311 = "open311"
	ChannelBehalf  = "behalf" // filed by an official for a walk-in or a phone call
)

// Input is a new request.
type Input struct {
	TypeCode    string            `json:"type"`
	Description string            `json:"description"`
	Address     string            `json:"address"`
	Lat         *float64          `json:"lat"`
	Lon         *float64          `json:"lon"`
	UnitID      int64             `json:"unit_id"` // where, when there is no GPS point
	Urgent      bool              `json:"urgent"`
	Public      *bool             `json:"public"` // nil: the type's default
	Anonymous   bool              `json:"anonymous"`
	Attrs       map[string]string `json:"attributes"`
	// Filed on behalf of someone (an official's walk-in or phone call), or
	// through Open311: who asked.
	OnBehalf      bool   `json:"on_behalf"`
	ReporterName  string `json:"reporter_name"`
	ReporterPhone string `json:"reporter_phone"`
	Channel       string `json:"-"`
	// Photos are names of photos already processed and stored by
	// media.Store (sniffed, re-encoded, metadata stripped), at most 5.
	Photos []string `json:"photos"`
}

// MaxPhotos is how many photos a request or an update may carry.
const MaxPhotos = 5

func checkPhotos(names []string) error {
	if len(names) > MaxPhotos {
		return apperr.InvalidField("photos", "Tối đa 5 ảnh.", "At most 5 photos.")
	}
	for _, n := range names {
		if !media.ValidName(n) {
			return apperr.InvalidField("photos", "Ảnh không hợp lệ.", "Invalid photo.")
		}
	}
	return nil
}

// Routing is where a request goes: the ward, the most precise unit the
// location allows (a tổ when the household registry knows the spot), and
// the responsible organisation.
type Routing struct {
	WardID    int64   `json:"ward_id"`
	WardCode  string  `json:"ward_code"`
	WardName  string  `json:"ward_name"`
	UnitID    int64   `json:"unit_id"`
	UnitName  string  `json:"unit_name"`
	UnitPath  string  `json:"-"`
	OrgKind   OrgKind `json:"org_kind"`
	Agency    string  `json:"agency"`
	TypeCode  string  `json:"type"`
	Precision string  `json:"precision"` // "household", "unit", "ward"
}

var (
	errOutside = apperr.InvalidField("lat", "Vị trí này nằm ngoài lãnh thổ Việt Nam, hệ thống không tiếp nhận được. Vui lòng kiểm tra lại vị trí.",
		"This point is outside Vietnam; no ward can take the request. Please check the location.")
	errNotDeployed = apperr.InvalidField("lat", "Vị trí này thuộc phường, xã chưa sử dụng hệ thống. Vui lòng liên hệ trực tiếp UBND phường, xã đó.",
		"This point is in a ward that does not use this system. Please contact that ward directly.")
	errNeedLocation = apperr.InvalidField("lat", "Vui lòng chọn vị trí (bấm “Lấy vị trí của tôi” hoặc nhập toạ độ).", "Please give a location (use your GPS or enter coordinates).")
)

// Route works out where a request of the given type at the given place
// would go, without filing it: the resident sees it before submitting.
// A request needs a GPS point, or a unit, or a principal who is a
// registered resident (their household's unit). It returns apperr Invalid
// (outside Vietnam, ward not in this deployment, no location), NotFound
// (type) or Unavailable (no boundaries loaded).
func (s *Service) Route(ctx context.Context, p *account.Principal, typeCode string, lat, lon *float64, unitID int64) (Routing, error) {
	t, err := s.TypeByCode(ctx, typeCode)
	if err != nil {
		return Routing{}, err
	}
	return s.route(ctx, p, t, lat, lon, unitID)
}

func (s *Service) route(ctx context.Context, p *account.Principal, t Type, lat, lon *float64, unitID int64) (Routing, error) {
	var ward, unit area.Unit
	precision := "ward"
	switch {
	case lat != nil && lon != nil && (unitID == 0 || s.locator.Load() != nil):
		if math.IsNaN(*lat) || math.IsNaN(*lon) || math.Abs(*lat) > 90 || math.Abs(*lon) > 180 {
			return Routing{}, apperr.InvalidField("lat", "Toạ độ không hợp lệ.", "Invalid coordinates.")
		}
		lb := s.locator.Load()
		if lb == nil {
			return Routing{}, apperr.New(apperr.Unavailable, "Chưa nạp ranh giới phường, xã; tạm thời chưa xác định được nơi xử lý theo vị trí.", "Ward boundaries are not loaded; routing by location is unavailable.")
		}
		w, ok := lb.Locate(*lon, *lat)
		if !ok {
			return Routing{}, errOutside
		}
		ward, err := s.wardByCode(ctx, w.Code)
		if err != nil {
			if apperr.CodeOf(err) == apperr.NotFound {
				return Routing{}, errNotDeployed
			}
			return Routing{}, err
		}
		unit = ward
		if u, ok, err := s.nearestHouseholdUnit(ctx, ward.Path, *lat, *lon); err != nil {
			return Routing{}, err
		} else if ok {
			unit, precision = u, "household"
		}
		return s.finishRoute(ctx, t, ward, unit, precision)
	case unitID != 0:
		u, err := s.areas.Unit(ctx, unitID)
		if err != nil {
			return Routing{}, err
		}
		if !u.Level.HoldsHouseholds() || !u.Current() {
			return Routing{}, apperr.InvalidField("unit_id", "Vui lòng chọn một phường, xã hoặc khu phố, tổ dân phố.", "Please choose a ward or a unit below one.")
		}
		unit, precision = u, "unit"
	case p != nil && p.ResidentID != 0:
		h, err := s.areas.MyHousehold(ctx, p)
		if err != nil {
			return Routing{}, err
		}
		if unit, err = s.areas.Unit(ctx, h.UnitID); err != nil {
			return Routing{}, err
		}
		precision = "household"
	default:
		return Routing{}, errNeedLocation
	}
	ward = unit
	if unit.Level != area.LevelCommune {
		anc, err := s.areas.Ancestors(ctx, unit)
		if err != nil {
			return Routing{}, err
		}
		found := false
		for _, a := range anc {
			if a.Level == area.LevelCommune {
				ward, found = a, true
			}
		}
		if !found {
			return Routing{}, apperr.InvalidField("unit_id", "Đơn vị này không thuộc phường, xã nào.", "This unit is not under a ward.")
		}
	}
	// A point was checked when its ward was found; a chosen unit (or the
	// household's) is checked here.
	if err := s.inTerritory(ctx, ward); err != nil {
		return Routing{}, apperr.InvalidField("unit_id", apperr.From(err).Message("vi"), apperr.From(err).Message("en"))
	}
	return s.finishRoute(ctx, t, ward, unit, precision)
}

func (s *Service) finishRoute(ctx context.Context, t Type, ward, unit area.Unit, precision string) (Routing, error) {
	r := Routing{WardID: ward.ID, WardCode: ward.Code, WardName: ward.FullName, UnitID: unit.ID, UnitName: unit.FullName,
		UnitPath: unit.Path, OrgKind: t.OrgKind, TypeCode: t.Code, Precision: precision}
	if unit.ID != ward.ID {
		r.UnitName = unit.FullName + ", " + ward.FullName
	}
	agency, err := s.agency(ctx, t.OrgKind, ward, unit)
	if err != nil {
		return Routing{}, err
	}
	r.Agency = agency
	return r, nil
}

var areaOrg = map[OrgKind]area.OrgKind{
	OrgWardOffice: area.OrgPeopleCommittee, OrgEnvironment: area.OrgPeopleCommittee, OrgPolice: area.OrgPolice,
	OrgUrbanOrder: area.OrgUrbanOrder, OrgHealth: area.OrgHealthStation,
}

// agency names the responsible body: the ward's organisation of that kind
// when it is registered, otherwise the kind and the ward's name.
func (s *Service) agency(ctx context.Context, k OrgKind, ward, unit area.Unit) (string, error) {
	ck := string(k) + "|" + unit.Path
	if a, ok := s.cache.agency.get(ck); ok {
		return a, nil
	}
	a, err := s.agencyOf(ctx, k, ward, unit)
	if err == nil {
		s.cache.agency.put(ck, a)
	}
	return a, err
}

func (s *Service) agencyOf(ctx context.Context, k OrgKind, ward, unit area.Unit) (string, error) {
	if k == OrgGroupHead {
		if unit.Level == area.LevelGroup {
			return "Tổ trưởng " + unit.FullName, nil
		}
		return "UBND " + ward.FullName, nil
	}
	if k != OrgEnvironment {
		var name string
		err := s.d.QueryRow(ctx, "SELECT name FROM organisations WHERE unit_id = ? AND kind = ? ORDER BY id LIMIT 1", ward.ID, string(areaOrg[k])).Scan(&name)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
	}
	return orgLabels[k][0] + " " + ward.FullName, nil
}

// nearestHouseholdUnit returns the unit of the registered household
// nearest to the point within 150 m, inside the ward.
func (s *Service) nearestHouseholdUnit(ctx context.Context, wardPath string, lat, lon float64) (area.Unit, bool, error) {
	const radius = 150.0
	hs, err := s.homes(ctx, wardPath)
	if err != nil {
		return area.Unit{}, false, err
	}
	best, bestD := int64(0), math.Inf(1)
	for _, h := range hs {
		if d := distance(lat, lon, h.lat, h.lon); d < bestD && d <= radius {
			best, bestD = h.unitID, d
		}
	}
	if best == 0 {
		return area.Unit{}, false, nil
	}
	u, err := s.areas.Unit(ctx, best)
	return u, err == nil, err
}

// distance is the equirectangular distance in metres (fine at ward scale).
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	x := (lon2 - lon1) * math.Cos((lat1+lat2)/2*math.Pi/180)
	y := lat2 - lat1
	return math.Sqrt(x*x+y*y) * 111320
}

// newToken returns a request's Open311 token: 24 hex digits, the
// millisecond it was made (48 bits) then 48 random bits. Tokens made later
// sort later, so the unique index on requests.token grows at its end
// instead of taking each new token on a random page of a million-row
// index (one more page for every group commit to write per request).
func newToken(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// deadlines returns the acknowledge and resolve deadlines of a request of
// type t filed at from.
func (s *Service) deadlines(t Type, urgent bool, from time.Time) (ack, resolve time.Time) {
	a, r := t.AckHours, t.ResolveHours
	if urgent {
		a, r = t.UrgentAckHours, t.UrgentResolveHours
	}
	cal := s.Calendar()
	return cal.AddWorkingHours(from, time.Duration(a)*time.Hour), cal.AddWorkingHours(from, time.Duration(r)*time.Hour)
}

// Submit files a request. A resident files for themself (p); an official
// with account.ActHandleRequests on the place files on behalf of someone
// (in.OnBehalf, with the reporter's name); Open311 clients file with p nil
// (the web layer has checked their API key). The request is routed, its
// deadlines are scheduled as durable jobs in the same transaction, and the
// first timeline entry is written. It returns apperr Unauthenticated,
// Forbidden, Invalid, NotFound or Unavailable.
func (s *Service) Submit(ctx context.Context, p *account.Principal, in Input) (Request, error) {
	if p == nil && in.Channel != ChannelOpen311 {
		return Request{}, apperr.ErrUnauthenticated
	}
	t, err := s.typeCached(ctx, in.TypeCode)
	if err != nil {
		return Request{}, apperr.InvalidField("type", "Vui lòng chọn loại yêu cầu.", "Please choose a service type.")
	}
	if !t.Active {
		return Request{}, apperr.InvalidField("type", "Loại yêu cầu này đã ngừng tiếp nhận.", "This service type no longer takes requests.")
	}
	in.Description = cleanBody(in.Description)
	in.Address = cleanText(in.Address)
	if n := len([]rune(in.Description)); n < 10 || n > 4000 {
		return Request{}, apperr.InvalidField("description", "Vui lòng mô tả sự việc (từ 10 đến 4000 ký tự).", "Please describe the matter (10 to 4000 characters).")
	}
	if len([]rune(in.Address)) > 300 {
		return Request{}, apperr.InvalidField("address", "Địa chỉ quá dài (tối đa 300 ký tự).", "The address is too long (at most 300 characters).")
	}
	if (in.Lat == nil) != (in.Lon == nil) {
		return Request{}, apperr.InvalidField("lat", "Cần cả vĩ độ và kinh độ.", "Both latitude and longitude are needed.")
	}
	if t.LocationRequired && in.Lat == nil && in.UnitID == 0 && in.Address == "" && (p == nil || p.ResidentID == 0 || in.OnBehalf) {
		return Request{}, errNeedLocation
	}
	if in.Anonymous && !t.AnonymousAllowed {
		return Request{}, apperr.InvalidField("anonymous", "Loại yêu cầu này không nhận phản ánh ẩn danh.", "This service type does not accept anonymous requests.")
	}
	attrs, err := checkAttrs(t, in.Attrs)
	if err != nil {
		return Request{}, err
	}
	if err := checkPhotos(in.Photos); err != nil {
		return Request{}, err
	}
	rp := p
	if in.OnBehalf {
		rp = nil // route by the place given, not the official's own household
	}
	rt, err := s.route(ctx, rp, t, in.Lat, in.Lon, in.UnitID)
	if err != nil {
		return Request{}, err
	}
	channel := in.Channel
	var reporterID, filedBy int64
	name, phone := cleanText(in.ReporterName), strings.TrimSpace(in.ReporterPhone)
	switch {
	case in.OnBehalf:
		if err := account.Authorize(p, account.ActHandleRequests, rt.UnitPath); err != nil {
			return Request{}, err
		}
		if name == "" {
			return Request{}, apperr.InvalidField("reporter_name", "Vui lòng nhập họ tên người phản ánh.", "Please enter the reporter's name.")
		}
		channel, filedBy = ChannelBehalf, p.AccountID
	case p != nil:
		reporterID, name, phone = p.AccountID, p.Name, p.Phone
		if channel == "" {
			channel = ChannelWeb
		}
	}
	if phone != "" {
		n, err := vntext.NormalizePhone(phone)
		if err != nil {
			return Request{}, apperr.InvalidField("reporter_phone", "Số điện thoại không hợp lệ.", "Invalid phone number.")
		}
		phone = n
	}
	public := t.PublicDefault
	if in.Public != nil {
		public = *in.Public
	}
	priority := "normal"
	if in.Urgent {
		priority = "urgent"
	}
	now := s.now()
	ackDue, resolveDue := s.deadlines(t, in.Urgent, now)
	attrJSON, err := json.Marshal(attrs)
	if err != nil {
		return Request{}, err
	}
	fold := searchFold(requestText(in.Description, in.Address, t.Name))
	token := newToken(now)
	row := &intakeRow{
		vals: []any{token, t.ID, rt.WardID, rt.UnitID, rt.UnitPath, string(rt.OrgKind), rt.Agency, string(StatusNew), priority, b2i(public),
			in.Description, in.Address, in.Lat, in.Lon, string(attrJSON), fold, nullID(reporterID), name, phone, b2i(in.Anonymous), channel, nullID(filedBy),
			db.Millis(ackDue), db.Millis(resolveDue), db.Millis(now), db.Millis(now)},
		token: token, photos: in.Photos, reporter: reporterID, at: db.Millis(now), ackDue: db.Millis(ackDue),
	}
	// Concurrent submissions share a transaction and set-based statements
	// (intakebatch.go); this returns once the request is durably written.
	if err := s.writeIntake(row); err != nil {
		return Request{}, err
	}
	id := row.id
	if p == nil {
		// An integrator gets the receipt: what Open311 answers.
		return Request{ID: id, Token: token, TypeCode: t.Code, TypeName: t.Name, WardID: rt.WardID, WardCode: rt.WardCode, WardName: rt.WardName,
			UnitID: rt.UnitID, UnitName: rt.UnitName, OrgKind: rt.OrgKind, Agency: rt.Agency, Status: StatusNew, Priority: priority, Public: public,
			AckDue: ackDue, ResolveDue: resolveDue, CreatedAt: now, UpdatedAt: now}, nil
	}
	return s.Get(ctx, p, id)
}

// Deadline job kind. The key names the request, the deadline and its
// instant, so each deadline is scheduled once and a moved deadline gets a
// job of its own.
const jobDeadline = "request.deadline"

type deadlinePayload struct {
	ID   int64  `json:"id"`
	What string `json:"what"` // "ack" or "resolve"
	Due  int64  `json:"due"`
}

func scheduleDeadline(ctx context.Context, tx *db.Tx, id int64, what string, due time.Time) error {
	p := deadlinePayload{ID: id, What: what, Due: db.Millis(due)}
	raw, _ := json.Marshal(p)
	_, err := jobs.Enqueue(ctx, tx, jobs.New{Kind: jobDeadline, Key: fmt.Sprintf("%d:%s:%d", id, what, p.Due), Payload: string(raw), RunAt: due})
	return err
}

func scheduleDeadlines(ctx context.Context, tx *db.Tx, id int64, ack, resolve time.Time) error {
	if err := scheduleDeadline(ctx, tx, id, "ack", ack); err != nil {
		return err
	}
	return scheduleDeadline(ctx, tx, id, "resolve", resolve)
}

func addUpdate(ctx context.Context, tx *db.Tx, id int64, at time.Time, actorID int64, actorName, kind string, st Status, public bool, body string) error {
	_, err := tx.Exec(ctx, `INSERT INTO request_updates(request_id, at, actor_id, actor_name, kind, status, public, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, db.Millis(at), nullID(actorID), actorName, kind, string(st), b2i(public), body)
	return err
}

func cosDeg(lat float64) float64 { return math.Cos(lat * math.Pi / 180) }

// Backdate moves a request's clock back by d: its creation, timeline and
// deadlines, and schedules its deadlines again at their new instants
// (those already past run on the queue's next pass). It exists for demo
// and benchmark data; nothing a user does calls it.
func (s *Service) Backdate(ctx context.Context, id int64, d time.Duration) error {
	ms := d.Milliseconds()
	return s.d.Write(ctx, func(tx *db.Tx) error {
		var ack, res int64
		if err := s.backdateTerms(ctx, tx, id, ms); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE requests SET created_at = created_at - ?, updated_at = updated_at - ?, ack_due = ack_due - ?,
			resolve_due = resolve_due - ? WHERE id = ? RETURNING ack_due, resolve_due`, ms, ms, ms, ms, id).Scan(&ack, &res); err != nil {
			return notFound(err, "yêu cầu", "Request")
		}
		if _, err := tx.Exec(ctx, "UPDATE request_updates SET at = at - ? WHERE request_id = ?", ms, id); err != nil {
			return err
		}
		return scheduleDeadlines(ctx, tx, id, db.Time(ack), db.Time(res))
	})
}
