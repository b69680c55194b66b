package web

// Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at
// /open311/v2/: discovery, services, service definitions, requests
// (GET and POST), tokens, and the servicerequestupdates extension, each in
// XML and JSON by the file extension. Ids and codes are strings, datetimes
// carry a time zone, errors are the spec's code/description list. Each
// request also carries agency_responsible and the extension ward_code;
// lists take the page/page_size extension. Only public requests are
// listed, without reporter identity, sensitive locations blurred.

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/workcal"
)

const open311Spec = "http://wiki.open311.org/GeoReport_v2"

func (s *Server) open311Routes() {
	s.handle("GET /open311/v2/{file}", s.open311Get)
	s.handle("POST /open311/v2/{file}", s.open311Post)
	s.handle("GET /open311/v2/services/{file}", s.open311ServiceDefinition)
	s.handle("GET /open311/v2/requests/{file}", s.open311Request)
	s.handle("GET /open311/v2/tokens/{file}", s.open311Token)
	s.handle("/open311/", s.open311NotFound)
}

// o311Format splits "requests.json" into "requests" and "json"; an unknown
// extension is "".
func o311Format(file string) (string, string) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return file, ""
	}
	name, ext := file[:i], strings.ToLower(file[i+1:])
	if ext != "json" && ext != "xml" {
		return name, ""
	}
	return name, ext
}

func (s *Server) open311NotFound(w http.ResponseWriter, r *http.Request) {
	_, f := o311Format(r.URL.Path)
	o311Error(w, f, http.StatusNotFound, "Không có địa chỉ này / no such endpoint")
}

func (s *Server) open311Get(w http.ResponseWriter, r *http.Request) {
	name, f := o311Format(r.PathValue("file"))
	if f == "" {
		o311Error(w, "json", http.StatusNotFound, "format must be .json or .xml")
		return
	}
	switch name {
	case "discovery":
		s.open311Discovery(w, r, f)
	case "services":
		s.open311Services(w, r, f)
	case "requests":
		s.open311Requests(w, r, f)
	case "servicerequestupdates":
		s.open311Updates(w, r, f)
	default:
		o311Error(w, f, http.StatusNotFound, "no such endpoint: "+name)
	}
}

func (s *Server) open311Post(w http.ResponseWriter, r *http.Request) {
	name, f := o311Format(r.PathValue("file"))
	if f == "" {
		o311Error(w, "json", http.StatusNotFound, "format must be .json or .xml")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		o311Error(w, f, http.StatusBadRequest, "malformed form body")
		return
	}
	who, err := s.requests.CheckAPIKey(r.Context(), r.PostForm.Get("api_key"))
	if err != nil {
		if apperr.CodeOf(err) == apperr.Forbidden {
			o311Error(w, f, http.StatusForbidden, "api_key is missing or invalid")
			return
		}
		s.o311Internal(w, r, f, err)
		return
	}
	switch name {
	case "requests":
		s.open311Create(w, r, f)
	case "servicerequestupdates":
		s.open311UpdateCreate(w, r, f, who)
	default:
		o311Error(w, f, http.StatusNotFound, "no such endpoint: "+name)
	}
}

func (s *Server) o311Internal(w http.ResponseWriter, r *http.Request, f string, err error) {
	e := apperr.From(err)
	if e.Code == apperr.Internal {
		s.log(r).Error("open311", "err", err)
		o311Error(w, f, http.StatusInternalServerError, "internal error")
		return
	}
	code := status(e.Code)
	if code == http.StatusUnauthorized {
		code = http.StatusForbidden
	}
	if code != http.StatusNotFound && code != http.StatusForbidden {
		code = http.StatusBadRequest
	}
	desc := e.Message("en")
	if e.Field != "" {
		desc = e.Field + ": " + desc
	}
	o311Error(w, f, code, desc)
}

func (s *Server) open311Discovery(w http.ResponseWriter, r *http.Request, f string) {
	base := "https://" + r.Host + "/open311/v2/"
	if r.TLS == nil {
		base = "http://" + r.Host + "/open311/v2/"
	}
	d := o311Discovery{Changeset: "2026-01-01T00:00:00+07:00", Contact: "UBND phường, xã sử dụng trothu", KeyService: "Liên hệ quản trị viên để được cấp api_key / ask an administrator for an api_key",
		Endpoints: []o311Endpoint{{Specification: open311Spec, URL: base, Changeset: "2026-01-01T00:00:00+07:00", Type: "production", Formats: []string{"text/xml", "application/json"}}}}
	o311Write(w, f, http.StatusOK, d, d)
}

func (s *Server) open311Services(w http.ResponseWriter, r *http.Request, f string) {
	ts, err := s.requests.Types(r.Context(), false)
	if err != nil {
		s.o311Internal(w, r, f, err)
		return
	}
	out := make([]o311Service, 0, len(ts))
	for _, t := range ts {
		out = append(out, o311Service{Code: t.Code, Name: t.Name, Description: t.Description, Metadata: len(t.Fields) > 0, Type: "realtime",
			Keywords: strings.Join([]string{t.NameEN, string(t.OrgKind)}, ","), Group: t.Group})
	}
	o311Write(w, f, http.StatusOK, out, o311Services{Items: out})
}

func (s *Server) open311ServiceDefinition(w http.ResponseWriter, r *http.Request) {
	code, f := o311Format(r.PathValue("file"))
	if f == "" {
		o311Error(w, "json", http.StatusNotFound, "format must be .json or .xml")
		return
	}
	t, err := s.requests.TypeByCode(r.Context(), code)
	if err != nil || !t.Active {
		o311Error(w, f, http.StatusNotFound, "no service with service_code "+code)
		return
	}
	def := o311Definition{Code: t.Code, Attributes: []o311Attribute{}}
	for _, fl := range t.Fields {
		a := o311Attribute{Variable: true, Code: fl.Code, Datatype: fl.Datatype, Required: fl.Required, DatatypeDescription: fl.Description,
			Order: fl.Order, Description: fl.Label}
		for _, v := range fl.Values {
			a.Values = append(a.Values, o311Value(v))
		}
		def.Attributes = append(def.Attributes, a)
	}
	o311Write(w, f, http.StatusOK, def, def)
}

func (s *Server) open311Create(w http.ResponseWriter, r *http.Request, f string) {
	form := r.PostForm
	code := strings.TrimSpace(form.Get("service_code"))
	if code == "" {
		o311Error(w, f, http.StatusBadRequest, "service_code is required")
		return
	}
	if _, err := s.requests.TypeByCode(r.Context(), code); err != nil {
		o311Error(w, f, http.StatusBadRequest, "unknown service_code "+code)
		return
	}
	in := request.Input{TypeCode: code, Description: form.Get("description"), Address: form.Get("address_string"), Channel: request.ChannelOpen311,
		ReporterPhone: form.Get("phone"), Attrs: map[string]string{}}
	in.ReporterName = strings.TrimSpace(form.Get("first_name") + " " + form.Get("last_name"))
	if lat, lon := form.Get("lat"), form.Get("long"); lat != "" || lon != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		if err1 != nil || err2 != nil {
			o311Error(w, f, http.StatusBadRequest, "lat and long must both be decimal degrees")
			return
		}
		in.Lat, in.Lon = &la, &lo
	}
	for k, v := range form {
		if strings.HasPrefix(k, "attribute[") && strings.HasSuffix(k, "]") {
			in.Attrs[k[len("attribute["):len(k)-1]] = strings.Join(v, ",")
		}
	}
	if in.Lat == nil && in.Address == "" {
		o311Error(w, f, http.StatusBadRequest, "a location is required: lat & long, or address_string")
		return
	}
	if in.Lat == nil {
		o311Error(w, f, http.StatusBadRequest, "lat & long are required to route the request to a ward")
		return
	}
	req, err := s.requests.Submit(r.Context(), nil, in)
	if err != nil {
		s.o311Internal(w, r, f, err)
		return
	}
	s.wakeJobs()
	out := []o311Created{{ID: itoa(req.ID), Token: req.Token, ServiceNotice: "Đã chuyển tới " + req.Agency + "; hạn xử lý " + o311Time(req.ResolveDue)}}
	o311Write(w, f, http.StatusCreated, out, o311CreatedList{Items: out})
}

func (s *Server) open311Token(w http.ResponseWriter, r *http.Request) {
	tok, f := o311Format(r.PathValue("file"))
	if f == "" {
		o311Error(w, "json", http.StatusNotFound, "format must be .json or .xml")
		return
	}
	id, err := s.requests.ByToken(r.Context(), tok)
	if err != nil {
		o311Error(w, f, http.StatusNotFound, "no request with this token")
		return
	}
	out := []o311Created{{ID: itoa(id), Token: tok}}
	o311Write(w, f, http.StatusOK, out, o311CreatedList{Items: out})
}

// open311Requests lists public requests. service_request_id (comma
// separated) overrides every other filter; otherwise service_code,
// start_date / end_date (at most 90 days apart; default the last 90
// days), status (open, closed), and the page/page_size extension (default
// and maximum 1,000).
func (s *Server) open311Requests(w http.ResponseWriter, r *http.Request, f string) {
	q := r.URL.Query()
	flt := request.Filter{Limit: 1000}
	if ids := strings.TrimSpace(q.Get("service_request_id")); ids != "" {
		for _, p := range strings.Split(ids, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil || id <= 0 {
				o311Error(w, f, http.StatusBadRequest, "service_request_id must be a comma-separated list of ids")
				return
			}
			flt.IDs = append(flt.IDs, id)
		}
		if len(flt.IDs) > 1000 {
			o311Error(w, f, http.StatusBadRequest, "at most 1000 ids")
			return
		}
	} else {
		flt.TypeCode = q.Get("service_code")
		if flt.TypeCode != "" {
			if _, err := s.requests.TypeByCode(r.Context(), flt.TypeCode); err != nil {
				o311Error(w, f, http.StatusBadRequest, "unknown service_code "+flt.TypeCode)
				return
			}
		}
		start, err1 := o311ParseTime(q.Get("start_date"))
		end, err2 := o311ParseTime(q.Get("end_date"))
		if err1 != nil || err2 != nil {
			o311Error(w, f, http.StatusBadRequest, "start_date and end_date must be w3 datetimes, e.g. 2026-03-01T00:00:00+07:00")
			return
		}
		const window = 90 * 24 * time.Hour
		switch {
		case start.IsZero() && end.IsZero():
			end = time.Now().Add(time.Minute)
			start = end.Add(-window)
		case start.IsZero():
			start = end.Add(-window)
		case end.IsZero():
			end = start.Add(window)
		}
		if end.Before(start) {
			o311Error(w, f, http.StatusBadRequest, "end_date is before start_date")
			return
		}
		if end.Sub(start) > window {
			o311Error(w, f, http.StatusBadRequest, "start_date and end_date may be at most 90 days apart")
			return
		}
		flt.Since, flt.Until = start, end
		for _, st := range strings.Split(q.Get("status"), ",") {
			switch strings.TrimSpace(st) {
			case "":
			case "open":
				flt.Statuses = append(flt.Statuses, request.OpenStatuses...)
			case "closed":
				for _, x := range request.Statuses {
					if !x.Open() {
						flt.Statuses = append(flt.Statuses, x)
					}
				}
			default:
				o311Error(w, f, http.StatusBadRequest, "status must be open, closed or both")
				return
			}
		}
		if len(flt.Statuses) == len(request.Statuses) {
			flt.Statuses = nil
		}
		size, page := 1000, 1
		if v := q.Get("page_size"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				o311Error(w, f, http.StatusBadRequest, "page_size must be 1 to 1000")
				return
			}
			size = n
		}
		if v := q.Get("page"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				o311Error(w, f, http.StatusBadRequest, "page must be 1 or more")
				return
			}
			page = n
		}
		flt.Limit, flt.Offset = size, (page-1)*size
	}
	pg, err := s.requests.Public(r.Context(), nil, flt)
	if err != nil {
		s.o311Internal(w, r, f, err)
		return
	}
	s.writeO311Requests(w, r, f, pg.Items)
}

func (s *Server) open311Request(w http.ResponseWriter, r *http.Request) {
	idStr, f := o311Format(r.PathValue("file"))
	if f == "" {
		o311Error(w, "json", http.StatusNotFound, "format must be .json or .xml")
		return
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil || id <= 0 {
		o311Error(w, f, http.StatusNotFound, "no request "+idStr)
		return
	}
	req, err := s.requests.Get(r.Context(), nil, id)
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			o311Error(w, f, http.StatusNotFound, "no request "+idStr)
			return
		}
		s.o311Internal(w, r, f, err)
		return
	}
	s.writeO311Requests(w, r, f, []request.Request{req})
}

func (s *Server) writeO311Requests(w http.ResponseWriter, r *http.Request, f string, items []request.Request) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	notes, err := s.requests.LatestReplies(r.Context(), ids)
	if err != nil {
		s.o311Internal(w, r, f, err)
		return
	}
	out := make([]o311Request, 0, len(items))
	for _, it := range items {
		st := "closed"
		if it.Status.Open() {
			st = "open"
		}
		o := o311Request{ID: itoa(it.ID), Status: st, StatusNotes: notes[it.ID], ServiceName: it.TypeName, ServiceCode: it.TypeCode,
			Description: it.Description, Agency: it.Agency, Requested: o311Time(it.CreatedAt), Updated: o311Time(it.UpdatedAt),
			Expected: o311Time(it.ResolveDue), Address: it.Address, WardCode: it.WardCode, Lat: it.Lat, Long: it.Lon}
		out = append(out, o)
	}
	o311Write(w, f, http.StatusOK, out, o311RequestList{Items: out})
}

// open311Updates lists public updates (the servicerequestupdates
// extension): of one request (service_request_id) or all, between
// updated_after and updated_before (default: the last 90 days).
func (s *Server) open311Updates(w http.ResponseWriter, r *http.Request, f string) {
	q := r.URL.Query()
	var id int64
	if v := q.Get("service_request_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			o311Error(w, f, http.StatusBadRequest, "service_request_id must be an id")
			return
		}
		id = n
	}
	after, err1 := o311ParseTime(q.Get("updated_after"))
	before, err2 := o311ParseTime(q.Get("updated_before"))
	if err1 != nil || err2 != nil {
		o311Error(w, f, http.StatusBadRequest, "updated_after and updated_before must be w3 datetimes")
		return
	}
	if before.IsZero() {
		before = time.Now().Add(time.Minute)
	}
	if after.IsZero() {
		after = before.Add(-90 * 24 * time.Hour)
	}
	us, err := s.requests.PublicUpdates(r.Context(), id, after, before, 1000)
	if err != nil {
		s.o311Internal(w, r, f, err)
		return
	}
	out := make([]o311Update, 0, len(us))
	for _, u := range us {
		out = append(out, o311UpdateOf(u))
	}
	o311Write(w, f, http.StatusOK, out, o311UpdateList{Items: out})
}

func o311UpdateOf(u request.Update) o311Update {
	st := "closed"
	if u.Status.Open() {
		st = "open"
	}
	desc := u.Body
	if desc == "" {
		desc = u.Status.Label("vi")
	}
	return o311Update{ID: itoa(u.ID), RequestID: itoa(u.RequestID), Status: st, Updated: o311Time(u.At), Description: desc}
}

func (s *Server) open311UpdateCreate(w http.ResponseWriter, r *http.Request, f, who string) {
	id, err := strconv.ParseInt(r.PostForm.Get("service_request_id"), 10, 64)
	if err != nil || id <= 0 {
		o311Error(w, f, http.StatusBadRequest, "service_request_id is required")
		return
	}
	u, err := s.requests.Comment(r.Context(), id, who, r.PostForm.Get("description"))
	if err != nil {
		s.o311Internal(w, r, f, err)
		return
	}
	out := []o311Update{o311UpdateOf(u)}
	o311Write(w, f, http.StatusCreated, out, o311UpdateList{Items: out})
}

// o311Time formats a datetime as W3C / ISO 8601 with the +07:00 offset.
func o311Time(t time.Time) string { return t.In(workcal.Zone).Format(time.RFC3339) }

func o311ParseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, workcal.Zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, apperr.New(apperr.Invalid, "Ngày giờ không hợp lệ.", "Invalid datetime.")
}
