package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/media"
	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/workcal"
)

func (s *Server) requestPageRoutes() {
	s.handle("GET /requests", s.requestListPage)
	s.handle("GET /requests/new", s.requestNewPage)
	s.handle("POST /requests/preview", s.requestPreview)
	s.handle("POST /requests/new", s.requestSubmit)
	s.handle("GET /requests/mine", s.requestMinePage)
	s.handle("GET /requests/queue", s.requestQueuePage)
	s.handle("POST /requests/queue/assign", s.requestBulkAssign)
	s.handle("GET /requests/{id}", s.requestPage)
	s.handle("POST /requests/{id}/act", s.requestAct)
	s.handle("POST /requests/{id}/confirm", s.requestConfirm)
	s.handle("POST /requests/{id}/reopen", s.requestReopen)
	s.handle("POST /requests/{id}/rate", s.requestRate)
	s.handle("POST /requests/{id}/follow", s.requestFollow)
	s.handle("GET /requests/{id}/photos/{name}", s.requestPhoto)
}

// parseRequestForm parses a form that may carry photos.
func parseRequestForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(nil, r.Body, request.MaxPhotos*media.MaxBytes+1<<20)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return apperr.InvalidField("photo", "Ảnh gửi lên quá lớn hoặc bị lỗi (tối đa 5 ảnh, mỗi ảnh 10 MB).", "The photos are too large or broken (5 photos of 10 MB at most).")
		}
		return nil
	}
	return r.ParseForm()
}

// savePhotos stores the uploaded files of field (sniffed, re-encoded,
// metadata stripped) and returns their names after those already carried
// in photo_name fields.
func (s *Server) savePhotos(r *http.Request, field string) ([]string, error) {
	names := append([]string(nil), r.PostForm["photo_name"]...)
	if r.MultipartForm == nil {
		return names, nil
	}
	for _, fh := range r.MultipartForm.File[field] {
		if len(names) >= request.MaxPhotos {
			return nil, apperr.InvalidField("photo", "Tối đa 5 ảnh.", "At most 5 photos.")
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		name, err := s.requests.SavePhoto(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// requestPhoto serves a photo of a request the viewer may see.
func (s *Server) requestPhoto(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	name := r.PathValue("name")
	ok, err := s.requests.HasPhoto(r.Context(), principalOf(r), id, name)
	if err == nil && !ok {
		err = apperr.NotFoundf("ảnh", "Photo")
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	f, err := s.requests.OpenPhoto(name)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(w, r, name, time.Time{}, f)
}

// requestForm is the intake form as typed.
type requestForm struct {
	Type, Description, Address, Lat, Lon string
	UnitID                               int64
	Urgent, Private, Anonymous, OnBehalf bool
	ReporterName, ReporterPhone          string
	Attrs                                map[string]string
	Photos                               []string
}

func (f requestForm) input() (request.Input, error) {
	in := request.Input{TypeCode: f.Type, Description: f.Description, Address: f.Address, UnitID: f.UnitID, Urgent: f.Urgent,
		Anonymous: f.Anonymous, Attrs: f.Attrs, OnBehalf: f.OnBehalf, ReporterName: f.ReporterName, ReporterPhone: f.ReporterPhone, Channel: request.ChannelWeb,
		Photos: f.Photos}
	if f.Private {
		no := false
		in.Public = &no
	}
	if f.Lat != "" || f.Lon != "" {
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(f.Lat), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(f.Lon), 64)
		if err1 != nil || err2 != nil {
			return in, apperr.InvalidField("lat", "Toạ độ không hợp lệ: nhập số độ, ví dụ 10.7725 và 106.6930.", "Invalid coordinates: enter degrees, e.g. 10.7725 and 106.6930.")
		}
		in.Lat, in.Lon = &lat, &lon
	}
	return in, nil
}

func readRequestForm(r *http.Request) requestForm {
	f := requestForm{Type: r.PostFormValue("type"), Description: r.PostFormValue("description"), Address: r.PostFormValue("address"),
		Lat: r.PostFormValue("lat"), Lon: r.PostFormValue("lon"), Urgent: r.PostFormValue("urgent") != "", Private: r.PostFormValue("private") != "",
		Anonymous: r.PostFormValue("anonymous") != "", OnBehalf: r.PostFormValue("on_behalf") != "",
		ReporterName: r.PostFormValue("reporter_name"), ReporterPhone: r.PostFormValue("reporter_phone"), Attrs: map[string]string{}}
	f.UnitID, _ = strconv.ParseInt(r.PostFormValue("unit_id"), 10, 64)
	for k, v := range r.PostForm {
		if strings.HasPrefix(k, "attr_") {
			f.Attrs[strings.TrimPrefix(k, "attr_")] = strings.Join(v, ",")
		}
	}
	return f
}

type requestNewData struct {
	Types   []request.Type
	Type    *request.Type
	Form    requestForm
	Routing *request.Routing
	Nearby  []request.Request
	Error   string
	Field   string
	Behalf  bool // the viewer may file on behalf of someone
	Units   []account.Grant
	Preview bool
}

func (s *Server) requestNewPage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	d, err := s.newRequestData(r, requestForm{Type: r.URL.Query().Get("type")})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "request_new.html", translate(langOf(r), "req.new_title"), d, "")
}

func (s *Server) newRequestData(r *http.Request, f requestForm) (requestNewData, error) {
	p := principalOf(r)
	ts, err := s.requests.Types(r.Context(), false)
	if err != nil {
		return requestNewData{}, err
	}
	d := requestNewData{Types: ts, Form: f, Behalf: p.CanAnywhere(account.ActHandleRequests)}
	for i := range ts {
		if ts[i].Code == f.Type {
			d.Type = &ts[i]
		}
	}
	if d.Behalf {
		for _, g := range p.Grants {
			if p.Can(account.ActHandleRequests, g.UnitPath) {
				d.Units = append(d.Units, g)
			}
		}
	}
	return d, nil
}

// requestPreview shows the resident which unit will handle the request
// and the similar open requests nearby, before anything is filed.
func (s *Server) requestPreview(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.pageError(w, r, apperr.ErrUnauthenticated)
		return
	}
	perr := parseRequestForm(r)
	f := readRequestForm(r)
	if perr == nil {
		f.Photos, perr = s.savePhotos(r, "photo")
	}
	d, err := s.newRequestData(r, f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	fail := func(err error) {
		if !formError(err) && codeOf(err) != apperr.NotFound && codeOf(err) != apperr.Unavailable {
			s.pageError(w, r, err)
			return
		}
		d.Error, d.Field = message(r, err), apperr.From(err).Field
		s.render(w, r, http.StatusUnprocessableEntity, "request_new.html", translate(langOf(r), "req.new_title"), d, "")
	}
	if perr != nil {
		fail(perr)
		return
	}
	in, err := f.input()
	if err != nil {
		fail(err)
		return
	}
	rp := p
	if f.OnBehalf {
		rp = nil
	}
	rt, err := s.requests.Route(r.Context(), rp, f.Type, in.Lat, in.Lon, f.UnitID)
	if err != nil {
		fail(err)
		return
	}
	d.Routing, d.Preview = &rt, true
	if in.Lat != nil {
		if d.Nearby, err = s.requests.Nearby(r.Context(), p, f.Type, *in.Lat, *in.Lon); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "request_new.html", translate(langOf(r), "req.new_title"), d, "")
}

func (s *Server) requestSubmit(w http.ResponseWriter, r *http.Request) {
	err := parseRequestForm(r)
	f := readRequestForm(r)
	if err == nil {
		f.Photos, err = s.savePhotos(r, "photo")
	}
	var in request.Input
	if err == nil {
		in, err = f.input()
	}
	if err == nil {
		var req request.Request
		if req, err = s.requests.Submit(r.Context(), principalOf(r), in); err == nil {
			s.wakeJobs()
			http.Redirect(w, r, "/requests/"+itoa(req.ID)+"?msg=request_sent", http.StatusSeeOther)
			return
		}
	}
	if !formError(err) {
		s.pageError(w, r, err)
		return
	}
	d, derr := s.newRequestData(r, f)
	if derr != nil {
		s.pageError(w, r, derr)
		return
	}
	d.Error, d.Field = message(r, err), apperr.From(err).Field
	s.render(w, r, http.StatusUnprocessableEntity, "request_new.html", translate(langOf(r), "req.new_title"), d, "")
}

type requestPageData struct {
	R        request.Request
	Timeline []request.Update
	Actions  []string
	Statuses []request.Status
	Error    string
	Loc      string // "10.77256, 106.69299"
}

func (s *Server) requestPage(w http.ResponseWriter, r *http.Request) {
	s.showRequest(w, r, http.StatusOK, "")
}

func (s *Server) showRequest(w http.ResponseWriter, r *http.Request, code int, errMsg string) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p := principalOf(r)
	req, err := s.requests.Get(r.Context(), p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	tl, err := s.requests.Timeline(r.Context(), p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := requestPageData{R: req, Timeline: tl, Actions: request.ChangeActions, Error: errMsg}
	if req.Lat != nil && req.Lon != nil {
		d.Loc = strconv.FormatFloat(*req.Lat, 'f', 5, 64) + ", " + strconv.FormatFloat(*req.Lon, 'f', 5, 64)
	}
	s.render(w, r, code, "request_detail.html", "#"+itoa(id)+" · "+req.TypeName, d, flash(r))
}

// afterRequestChange redirects back to the request, or shows the error on it.
func (s *Server) afterRequestChange(w http.ResponseWriter, r *http.Request, id int64, err error, msg string) {
	if err == nil {
		http.Redirect(w, r, "/requests/"+itoa(id)+"?msg="+msg, http.StatusSeeOther)
		return
	}
	if formError(err) {
		s.showRequest(w, r, http.StatusUnprocessableEntity, message(r, err))
		return
	}
	s.pageError(w, r, err)
}

func (s *Server) requestAct(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := parseRequestForm(r); err != nil {
		s.afterRequestChange(w, r, id, err, "")
		return
	}
	photos, err := s.savePhotos(r, "photo")
	if err != nil {
		s.afterRequestChange(w, r, id, err, "")
		return
	}
	c := request.Change{Action: r.PostFormValue("action"), Body: r.PostFormValue("body"), TypeCode: r.PostFormValue("type")}
	if len(photos) > 0 {
		c.Photo = photos[0]
	}
	c.AssigneeID, _ = strconv.ParseInt(r.PostFormValue("assignee_id"), 10, 64)
	if r.PostFormValue("assign_me") != "" && principalOf(r) != nil {
		c.Action, c.AssigneeID = "assign", principalOf(r).AccountID
	}
	c.UnitID, _ = strconv.ParseInt(r.PostFormValue("unit_id"), 10, 64)
	c.MergeInto, _ = strconv.ParseInt(strings.TrimPrefix(r.PostFormValue("merge_into"), "#"), 10, 64)
	if v := r.PostFormValue("scheduled_at"); v != "" {
		if t, err := time.ParseInLocation("2006-01-02T15:04", v, workcal.Zone); err == nil {
			c.ScheduledAt = t
		}
	}
	_, err = s.requests.Handle(r.Context(), principalOf(r), id, c)
	s.afterRequestChange(w, r, id, err, "request_updated")
}

func (s *Server) requestConfirm(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	_, err = s.requests.Confirm(r.Context(), principalOf(r), id)
	s.afterRequestChange(w, r, id, err, "request_confirmed")
}

func (s *Server) requestReopen(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	_, err = s.requests.Reopen(r.Context(), principalOf(r), id, r.PostFormValue("reason"))
	if err == nil {
		s.wakeJobs()
	}
	s.afterRequestChange(w, r, id, err, "request_reopened")
}

func (s *Server) requestRate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	stars, _ := strconv.Atoi(r.PostFormValue("rating"))
	_, err = s.requests.Rate(r.Context(), principalOf(r), id, stars, r.PostFormValue("comment"))
	s.afterRequestChange(w, r, id, err, "request_rated")
}

func (s *Server) requestFollow(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	_, err = s.requests.Follow(r.Context(), principalOf(r), id, r.PostFormValue("on") == "1")
	s.afterRequestChange(w, r, id, err, "saved")
}
