package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/vntext"
	"github.com/trothu/trothu/internal/workcal"
)

// requestAdminRoutes registers the administrators' pages of the request
// room: service types (with their extra fields), the working-hours
// calendar, Open311 API keys and the deployment's territory. Every handler
// checks account.ActAdminRequests through the service, which audits each
// change.
func (s *Server) requestAdminRoutes() {
	s.handle("GET /admin/request-types", s.reqAdminTypes)
	s.handle("GET /admin/request-types/new", s.reqAdminTypeForm)
	s.handle("GET /admin/request-types/{code}", s.reqAdminTypeForm)
	s.handle("POST /admin/request-types", s.reqAdminTypeSave)
	s.handle("GET /admin/request-calendar", s.reqAdminCalendar)
	s.handle("POST /admin/request-calendar", s.reqAdminCalendarSave)
	s.handle("GET /admin/open311-keys", s.reqAdminKeys)
	s.handle("POST /admin/open311-keys", s.reqAdminKeyCreate)
	s.handle("POST /admin/open311-keys/{id}/revoke", s.reqAdminKeyRevoke)
	s.handle("GET /admin/request-territory", s.reqAdminTerritory)
	s.handle("POST /admin/request-territory", s.reqAdminTerritorySave)
	s.api("GET", "/request-territory", s.apiRequestTerritory)
	s.api("PUT", "/request-territory", s.apiRequestTerritorySave)
}

// apiRequestTerritory lists the provinces and wards the deployment serves
// (empty: every ward). It is public, like the calendar.
func (s *Server) apiRequestTerritory(w http.ResponseWriter, r *http.Request) {
	us, err := s.requests.Territory(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"units": us})
}

// apiRequestTerritorySave sets the territory by GSO codes
// ({"codes":["79","26743"]}; empty: everywhere); administrators only.
func (s *Server) apiRequestTerritorySave(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Codes []string `json:"codes"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	us, err := s.requests.SaveTerritory(r.Context(), principalOf(r), in.Codes)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"units": us})
}

// reqAdmin refuses the page (and renders the refusal) unless the viewer
// administers requests.
func (s *Server) reqAdmin(w http.ResponseWriter, r *http.Request) bool {
	if err := s.requests.AuthorizeAdmin(r.Context(), principalOf(r)); err != nil {
		s.pageError(w, r, err)
		return false
	}
	return true
}

type reqAdminTab struct{ Tab string }

// orgKinds and datatypes are offered in the order a form lists them.
var orgKinds = []request.OrgKind{request.OrgWardOffice, request.OrgPolice, request.OrgUrbanOrder, request.OrgEnvironment, request.OrgHealth, request.OrgGroupHead}

type reqTypesData struct {
	reqAdminTab
	Types []request.Type
}

func (s *Server) reqAdminTypes(w http.ResponseWriter, r *http.Request) {
	if !s.reqAdmin(w, r) {
		return
	}
	ts, err := s.requests.Types(r.Context(), true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "request_admin_types.html", translate(langOf(r), "reqadm.types"), reqTypesData{reqAdminTab{"types"}, ts}, flash(r))
}

// fieldRow is an extra field as the form edits it (list values as lines).
type fieldRow struct {
	request.Field
	ValuesText string
}

type reqTypeData struct {
	reqAdminTab
	T         request.Type
	Rows      []fieldRow
	New       bool
	Error     string
	OrgKinds  []request.OrgKind
	Datatypes []string
}

func rowsOf(fs []request.Field) []fieldRow {
	out := make([]fieldRow, 0, len(fs)+1)
	for _, f := range fs {
		var lines []string
		for _, v := range f.Values {
			lines = append(lines, v.Key+" = "+v.Name)
		}
		out = append(out, fieldRow{Field: f, ValuesText: strings.Join(lines, "\n")})
	}
	// One blank row: a field can be added without script.
	return append(out, fieldRow{Field: request.Field{Datatype: "string"}})
}

func (s *Server) reqAdminTypeForm(w http.ResponseWriter, r *http.Request) {
	if !s.reqAdmin(w, r) {
		return
	}
	d := reqTypeData{reqAdminTab: reqAdminTab{"types"}, OrgKinds: orgKinds, Datatypes: request.Datatypes}
	if code := r.PathValue("code"); code != "" {
		t, err := s.requests.TypeByCode(r.Context(), code)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.T = t
	} else {
		d.New = true
		d.T = request.Type{OrgKind: request.OrgWardOffice, PublicDefault: true, LocationRequired: true, Active: true,
			AckHours: 8, ResolveHours: 80, UrgentAckHours: 2, UrgentResolveHours: 16, Sort: 100}
	}
	d.Rows = rowsOf(d.T.Fields)
	title := translate(langOf(r), "reqadm.type_new")
	if !d.New {
		title = d.T.Name
	}
	s.render(w, r, http.StatusOK, "request_admin_type.html", title, d, flash(r))
}

var fieldKeyRe = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes a list value's key from its name: "Đổ khung" → "do_khung".
func slug(s string) string {
	k := strings.Trim(fieldKeyRe.ReplaceAllString(vntext.Fold(s), "_"), "_")
	if len(k) > 40 { // the longest code a type accepts
		k = strings.TrimRight(k[:40], "_")
	}
	return k
}

// parseTypeForm reads the type form. Field rows come as parallel lists
// (f_code, f_label, …); a row left blank is dropped, the rows' order is
// their f_order (the page's arrows renumber them).
func parseTypeForm(r *http.Request) (request.Type, []fieldRow, error) {
	num := func(name string) int { n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(name))); return n }
	on := func(name string) bool { return r.PostFormValue(name) != "" }
	t := request.Type{Code: strings.TrimSpace(r.PostFormValue("code")), Name: r.PostFormValue("name"), NameEN: r.PostFormValue("name_en"),
		Group: r.PostFormValue("group"), Description: r.PostFormValue("description"), OrgKind: request.OrgKind(r.PostFormValue("org_kind")),
		PublicDefault: on("public_default"), Sensitive: on("sensitive"), LocationRequired: on("location_required"), AnonymousAllowed: on("anonymous_allowed"),
		Active: on("active"), AckHours: num("ack_hours"), ResolveHours: num("resolve_hours"), UrgentAckHours: num("urgent_ack_hours"),
		UrgentResolveHours: num("urgent_resolve_hours"), Sort: num("sort"), Fields: []request.Field{}}
	f := r.PostForm
	at := func(name string, i int) string {
		if i < len(f[name]) {
			return f[name][i]
		}
		return ""
	}
	var rows []fieldRow
	var firstErr error
	for i := range f["f_code"] {
		row := fieldRow{Field: request.Field{Code: strings.TrimSpace(at("f_code", i)), Label: strings.TrimSpace(at("f_label", i)),
			LabelEN: strings.TrimSpace(at("f_label_en", i)), Datatype: at("f_datatype", i), Required: at("f_required", i) == "1",
			Description: strings.TrimSpace(at("f_description", i))}, ValuesText: at("f_values", i)}
		row.Order, _ = strconv.Atoi(strings.TrimSpace(at("f_order", i)))
		if row.Order == 0 {
			row.Order = i + 1
		}
		if row.Code == "" && row.Label == "" && strings.TrimSpace(row.ValuesText) == "" {
			continue
		}
		if row.Code == "" && row.Label != "" {
			row.Code = slug(row.Label)
		}
		for _, line := range strings.Split(strings.ReplaceAll(row.ValuesText, "\r\n", "\n"), "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			k, name, ok := strings.Cut(line, "=")
			if !ok {
				k, name = slug(line), line
			}
			k, name = strings.TrimSpace(k), strings.TrimSpace(name)
			if k == "" || name == "" || strings.Contains(k, ",") {
				if firstErr == nil {
					firstErr = apperr.InvalidField("fields", fmt.Sprintf("Lựa chọn “%s” của trường “%s” không hợp lệ: ghi mỗi dòng một lựa chọn dạng “mã = Tên hiển thị” (mã không có dấu phẩy).", line, row.Label),
						fmt.Sprintf("Value “%s” of field “%s” is invalid: write one per line as “key = Name” (no comma in the key).", line, row.Label))
				}
				continue
			}
			if slices.ContainsFunc(row.Values, func(v request.FieldValue) bool { return v.Key == k }) && firstErr == nil {
				firstErr = apperr.InvalidField("fields", fmt.Sprintf("Trường “%s” có hai lựa chọn cùng mã “%s”.", row.Label, k), fmt.Sprintf("Field “%s” has two values with the key “%s”.", row.Label, k))
			}
			row.Values = append(row.Values, request.FieldValue{Key: k, Name: name})
		}
		if !strings.HasSuffix(row.Datatype, "list") && len(row.Values) > 0 && firstErr == nil {
			firstErr = apperr.InvalidField("fields", fmt.Sprintf("Trường “%s” không phải kiểu danh sách nên không có lựa chọn; hãy chọn kiểu “một lựa chọn” hoặc “nhiều lựa chọn”, hoặc xoá các lựa chọn.", row.Label),
				fmt.Sprintf("Field “%s” is not a list, so it has no values: make it a list or remove them.", row.Label))
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b fieldRow) int { return a.Order - b.Order })
	for i := range rows {
		rows[i].Order = i + 1
		t.Fields = append(t.Fields, rows[i].Field)
	}
	return t, rows, firstErr
}

func (s *Server) reqAdminTypeSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, apperr.InvalidField("form", "Biểu mẫu không hợp lệ.", "Invalid form."))
		return
	}
	if !s.reqAdmin(w, r) {
		return
	}
	isNew := r.PostFormValue("new") != ""
	t, rows, err := parseTypeForm(r)
	if err == nil && isNew {
		if _, e := s.requests.TypeByCode(r.Context(), t.Code); e == nil {
			err = apperr.InvalidField("code", fmt.Sprintf("Đã có loại yêu cầu mã “%s”; hãy chọn mã khác hoặc sửa loại đó.", t.Code), fmt.Sprintf("A service type with the code “%s” exists.", t.Code))
		}
	}
	if err == nil {
		_, err = s.requests.SaveType(r.Context(), principalOf(r), t)
	}
	if formError(err) {
		d := reqTypeData{reqAdminTab: reqAdminTab{"types"}, T: t, Rows: append(rows, fieldRow{Field: request.Field{Datatype: "string"}}), New: isNew,
			Error: message(r, err), OrgKinds: orgKinds, Datatypes: request.Datatypes}
		s.render(w, r, http.StatusBadRequest, "request_admin_type.html", translate(langOf(r), "reqadm.types"), d, "")
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/request-types/"+t.Code+"?msg=reqadm_saved", http.StatusSeeOther)
}

var weekdays = []struct{ Key, VI, EN string }{
	{"mon", "Thứ Hai", "Monday"}, {"tue", "Thứ Ba", "Tuesday"}, {"wed", "Thứ Tư", "Wednesday"}, {"thu", "Thứ Năm", "Thursday"},
	{"fri", "Thứ Sáu", "Friday"}, {"sat", "Thứ Bảy", "Saturday"}, {"sun", "Chủ nhật", "Sunday"},
}

type weekdayRow struct {
	Key, Name, Hours string
}

type dayRow struct {
	Date time.Time
	Name string
	Kind string // holiday, off, makeup
}

type reqCalendarData struct {
	reqAdminTab
	Days              []weekdayRow
	ExtraDaysOff      string
	MakeUpDays        string
	SeptemberAdjacent string
	Error             string
	Year              int
	Preview           []dayRow
}

func datesText(ds []string) string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			out = append(out, t.Format("02/01/2006"))
		}
	}
	return strings.Join(out, "\n")
}

func calendarData(r *http.Request, cfg workcal.Config, cal *workcal.Calendar, year int) reqCalendarData {
	d := reqCalendarData{reqAdminTab: reqAdminTab{"calendar"}, ExtraDaysOff: datesText(cfg.ExtraDaysOff), MakeUpDays: datesText(cfg.MakeUpWorkingDays),
		SeptemberAdjacent: cfg.SeptemberAdjacent, Year: year}
	for _, wd := range weekdays {
		name := wd.VI
		if langOf(r) == "en" {
			name = wd.EN
		}
		d.Days = append(d.Days, weekdayRow{Key: wd.Key, Name: name, Hours: strings.Join(cfg.Hours[wd.Key], ", ")})
	}
	for _, h := range cal.Holidays(year) {
		d.Preview = append(d.Preview, dayRow{Date: h.Date, Name: h.Name, Kind: "holiday"})
	}
	for _, set := range []struct {
		kind  string
		dates []string
	}{{"off", cfg.ExtraDaysOff}, {"makeup", cfg.MakeUpWorkingDays}} {
		kind := set.kind
		for _, s := range set.dates {
			if t, err := time.ParseInLocation(time.DateOnly, s, workcal.Zone); err == nil && t.Year() == year {
				d.Preview = append(d.Preview, dayRow{Date: t, Kind: kind})
			}
		}
	}
	slices.SortStableFunc(d.Preview, func(a, b dayRow) int { return a.Date.Compare(b.Date) })
	return d
}

func (s *Server) reqAdminCalendar(w http.ResponseWriter, r *http.Request) {
	if !s.reqAdmin(w, r) {
		return
	}
	cfg, err := s.requests.CalendarConfig(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	year, _ := strconv.Atoi(r.URL.Query().Get("year"))
	if year < 1900 || year > 2199 {
		year = time.Now().In(workcal.Zone).Year()
	}
	d := calendarData(r, cfg, s.requests.Calendar(), year)
	s.render(w, r, http.StatusOK, "request_admin_calendar.html", translate(langOf(r), "reqadm.calendar"), d, flash(r))
}

var spanRe = regexp.MustCompile(`^([01]?\d|2[0-4])[:hH]([0-5]\d)?\s*-\s*([01]?\d|2[0-4])[:hH]([0-5]\d)?$`)

// parseCalendarForm reads the calendar form with Vietnamese messages for
// each mistake (the workcal package's own are for logs).
func parseCalendarForm(r *http.Request) (workcal.Config, error) {
	cfg := workcal.Config{Hours: map[string][]string{}, SeptemberAdjacent: r.PostFormValue("september_adjacent")}
	for _, wd := range weekdays {
		raw := strings.TrimSpace(r.PostFormValue("hours_" + wd.Key))
		if raw == "" {
			continue
		}
		for _, part := range strings.FieldsFunc(raw, func(c rune) bool { return c == ',' || c == ';' }) {
			part = strings.TrimSpace(part)
			m := spanRe.FindStringSubmatch(part)
			if m == nil {
				return cfg, apperr.InvalidField("hours_"+wd.Key, fmt.Sprintf("Giờ làm việc %s “%s” không đúng dạng, ví dụ: 07:30-11:30, 13:00-17:00.", wd.VI, part),
					fmt.Sprintf("Hours on %s “%s” are malformed; for example 07:30-11:30, 13:00-17:00.", wd.EN, part))
			}
			clock := func(h, mm string) string {
				if mm == "" {
					mm = "00"
				}
				if len(h) == 1 {
					h = "0" + h
				}
				return h + ":" + mm
			}
			a, b := clock(m[1], m[2]), clock(m[3], m[4])
			if a >= b {
				return cfg, apperr.InvalidField("hours_"+wd.Key, fmt.Sprintf("Giờ làm việc %s “%s”: giờ bắt đầu phải trước giờ kết thúc.", wd.VI, part),
					fmt.Sprintf("Hours on %s “%s”: the start must be before the end.", wd.EN, part))
			}
			cfg.Hours[wd.Key] = append(cfg.Hours[wd.Key], a+"-"+b)
		}
	}
	if len(cfg.Hours) == 0 {
		return cfg, apperr.InvalidField("hours_mon", "Cần ít nhất một ngày làm việc trong tuần.", "The week needs at least one working day.")
	}
	dates := func(field, vi, en string) ([]string, error) {
		var out []string
		for _, s := range strings.FieldsFunc(r.PostFormValue(field), func(c rune) bool { return c == '\n' || c == ',' || c == ';' || c == '\r' }) {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			t, err := time.Parse("2/1/2006", s)
			if err != nil {
				t, err = time.Parse(time.DateOnly, s)
			}
			if err != nil {
				return nil, apperr.InvalidField(field, fmt.Sprintf("%s: ngày “%s” không đúng dạng ngày/tháng/năm (ví dụ 02/01/2027).", vi, s),
					fmt.Sprintf("%s: “%s” is not a day/month/year date (for example 02/01/2027).", en, s))
			}
			if d := t.Format(time.DateOnly); !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
		slices.Sort(out)
		return out, nil
	}
	var err error
	if cfg.ExtraDaysOff, err = dates("extra_days_off", "Ngày nghỉ thêm", "Extra days off"); err != nil {
		return cfg, err
	}
	if cfg.MakeUpWorkingDays, err = dates("make_up_days", "Ngày làm bù", "Make-up working days"); err != nil {
		return cfg, err
	}
	for _, d := range cfg.ExtraDaysOff {
		if slices.Contains(cfg.MakeUpWorkingDays, d) {
			t, _ := time.Parse(time.DateOnly, d)
			return cfg, apperr.InvalidField("make_up_days", fmt.Sprintf("Ngày %s vừa là ngày nghỉ thêm vừa là ngày làm bù.", t.Format("02/01/2006")),
				fmt.Sprintf("%s is both an extra day off and a make-up day.", d))
		}
	}
	return cfg, nil
}

func (s *Server) reqAdminCalendarSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, apperr.InvalidField("form", "Biểu mẫu không hợp lệ.", "Invalid form."))
		return
	}
	if !s.reqAdmin(w, r) {
		return
	}
	cfg, err := parseCalendarForm(r)
	if err == nil {
		_, err = s.requests.SaveCalendar(r.Context(), principalOf(r), cfg)
	}
	if formError(err) {
		d := calendarData(r, cfg, s.requests.Calendar(), time.Now().In(workcal.Zone).Year())
		d.ExtraDaysOff, d.MakeUpDays, d.Error = r.PostFormValue("extra_days_off"), r.PostFormValue("make_up_days"), message(r, err)
		for i := range d.Days {
			d.Days[i].Hours = r.PostFormValue("hours_" + d.Days[i].Key)
		}
		s.render(w, r, http.StatusBadRequest, "request_admin_calendar.html", translate(langOf(r), "reqadm.calendar"), d, "")
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/request-calendar?msg=reqadm_saved", http.StatusSeeOther)
}

type reqKeysData struct {
	reqAdminTab
	Keys  []request.APIKey
	New   *request.APIKey
	Name  string
	Error string
}

func (s *Server) renderKeys(w http.ResponseWriter, r *http.Request, status int, d reqKeysData, fl string) {
	ks, err := s.requests.APIKeys(r.Context(), principalOf(r))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.reqAdminTab, d.Keys = reqAdminTab{"keys"}, ks
	s.render(w, r, status, "request_admin_keys.html", translate(langOf(r), "reqadm.keys"), d, fl)
}

func (s *Server) reqAdminKeys(w http.ResponseWriter, r *http.Request) {
	s.renderKeys(w, r, http.StatusOK, reqKeysData{}, flash(r))
}

// reqAdminKeyCreate shows the new key once, on the page that answers the
// form; it is never shown again.
func (s *Server) reqAdminKeyCreate(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	k, err := s.requests.CreateAPIKey(r.Context(), principalOf(r), name, false)
	if formError(err) {
		s.renderKeys(w, r, http.StatusBadRequest, reqKeysData{Name: name, Error: message(r, err)}, "")
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderKeys(w, r, http.StatusOK, reqKeysData{New: &k}, "")
}

func (s *Server) reqAdminKeyRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err == nil {
		err = s.requests.RevokeAPIKey(r.Context(), principalOf(r), id)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/open311-keys?msg=reqadm_revoked", http.StatusSeeOther)
}

type reqTerritoryData struct {
	reqAdminTab
	Units []area.Unit
	Codes string
	Error string
}

func (s *Server) reqAdminTerritory(w http.ResponseWriter, r *http.Request) {
	if !s.reqAdmin(w, r) {
		return
	}
	us, err := s.requests.Territory(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	codes := make([]string, len(us))
	for i, u := range us {
		codes[i] = u.Code
	}
	d := reqTerritoryData{reqAdminTab: reqAdminTab{"territory"}, Units: us, Codes: strings.Join(codes, ", ")}
	s.render(w, r, http.StatusOK, "request_admin_territory.html", translate(langOf(r), "reqadm.territory"), d, flash(r))
}

func (s *Server) reqAdminTerritorySave(w http.ResponseWriter, r *http.Request) {
	raw := r.PostFormValue("codes")
	codes := strings.FieldsFunc(raw, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	_, err := s.requests.SaveTerritory(r.Context(), principalOf(r), codes)
	if formError(err) {
		us, terr := s.requests.Territory(r.Context())
		if terr != nil {
			s.pageError(w, r, terr)
			return
		}
		d := reqTerritoryData{reqAdminTab: reqAdminTab{"territory"}, Units: us, Codes: raw, Error: message(r, err)}
		s.render(w, r, http.StatusBadRequest, "request_admin_territory.html", translate(langOf(r), "reqadm.territory"), d, "")
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/request-territory?msg=reqadm_saved", http.StatusSeeOther)
}
