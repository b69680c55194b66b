package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/sheet"
	"github.com/trothu/trothu/internal/workcal"
)

func (s *Server) apiRequestTypes(w http.ResponseWriter, r *http.Request) {
	ts, err := s.requests.Types(r.Context(), r.URL.Query().Get("all") == "1")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(ts, ""))
}

func (s *Server) apiRequestTypeSave(w http.ResponseWriter, r *http.Request) {
	var t request.Type
	if err := decodeJSON(r, &t); err != nil {
		s.apiError(w, r, err)
		return
	}
	out, err := s.requests.SaveType(r.Context(), principalOf(r), t)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiRequestCalendar(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.requests.CalendarConfig(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (s *Server) apiRequestCalendarSave(w http.ResponseWriter, r *http.Request) {
	var cfg workcal.Config
	if err := decodeJSON(r, &cfg); err != nil {
		s.apiError(w, r, err)
		return
	}
	out, err := s.requests.SaveCalendar(r.Context(), principalOf(r), cfg)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// queryPoint reads optional ?lat=&lon= (both or neither).
func queryPoint(r *http.Request) (*float64, *float64, error) {
	q := r.URL.Query()
	if strings.TrimSpace(q.Get("lat")) == "" && strings.TrimSpace(q.Get("lon")) == "" {
		return nil, nil, nil
	}
	lat, err := apiCoordinate(r, "lat", 90)
	if err != nil {
		return nil, nil, err
	}
	lon, err := apiCoordinate(r, "lon", 180)
	if err != nil {
		return nil, nil, err
	}
	return &lat, &lon, nil
}

func (s *Server) apiRequestRoute(w http.ResponseWriter, r *http.Request) {
	lat, lon, err := queryPoint(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	unitID, err := apiQueryInt(r, "unit_id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rt, err := s.requests.Route(r.Context(), principalOf(r), r.URL.Query().Get("type"), lat, lon, unitID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rt)
}

func (s *Server) apiRequestNearby(w http.ResponseWriter, r *http.Request) {
	lat, err := apiCoordinate(r, "lat", 90)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	lon, err := apiCoordinate(r, "lon", 180)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items, err := s.requests.Nearby(r.Context(), principalOf(r), r.URL.Query().Get("type"), lat, lon)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(items, ""))
}

func (s *Server) apiRequestCreate(w http.ResponseWriter, r *http.Request) {
	var in request.Input
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	in.Channel = request.ChannelAPI
	out, err := s.requests.Submit(r.Context(), principalOf(r), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.wakeJobs()
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) wakeJobs() {
	if s.jobs != nil {
		s.jobs.Wake()
	}
}

// requestFilter reads the list filters shared by the lists and the export.
func requestFilter(r *http.Request) (request.Filter, error) {
	q := r.URL.Query()
	f := request.Filter{TypeCode: q.Get("type"), Query: q.Get("q"), After: q.Get("after"),
		Overdue: q.Get("overdue") == "1" || q.Get("overdue") == "true", Escalated: q.Get("escalated") == "1" || q.Get("escalated") == "true"}
	var err error
	if f.UnitID, err = apiQueryInt(r, "unit_id"); err != nil {
		return f, err
	}
	if f.AssigneeID, err = apiQueryInt(r, "assignee_id"); err != nil {
		return f, err
	}
	if f.Limit, err = apiQueryLimit(r); err != nil {
		return f, err
	}
	for _, st := range strings.Split(q.Get("status"), ",") {
		if st = strings.TrimSpace(st); st == "open" {
			f.Statuses = append(f.Statuses, request.OpenStatuses...)
		} else if st != "" {
			f.Statuses = append(f.Statuses, request.Status(st))
		}
	}
	if d := q.Get("since"); d != "" {
		t, err := time.ParseInLocation(time.DateOnly, d, workcal.Zone)
		if err != nil {
			return f, apperr.InvalidField("since", "Ngày không hợp lệ (YYYY-MM-DD).", "Invalid date (YYYY-MM-DD).")
		}
		f.Since = t
	}
	return f, nil
}

func (s *Server) apiRequestPublicList(w http.ResponseWriter, r *http.Request) {
	s.apiRequestList(w, r, s.requests.Public)
}

func (s *Server) apiRequestQueue(w http.ResponseWriter, r *http.Request) {
	s.apiRequestList(w, r, s.requests.Queue)
}

func (s *Server) apiRequestMine(w http.ResponseWriter, r *http.Request) {
	s.apiRequestList(w, r, s.requests.Mine)
}

func (s *Server) apiRequestList(w http.ResponseWriter, r *http.Request, list func(context.Context, *account.Principal, request.Filter) (request.Page, error)) {
	f, err := requestFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	page, err := list(r.Context(), principalOf(r), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(page.Items, page.Next))
}

// apiRequestExport writes the queue (up to 10,000 rows) as CSV, or as
// XLSX with ?format=xlsx.
func (s *Server) apiRequestExport(w http.ResponseWriter, r *http.Request) {
	f, err := requestFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rows, err := s.requests.Export(r.Context(), principalOf(r), f, 10000)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	cells := make([][]sheet.Cell, 0, len(rows)-1)
	for _, row := range rows[1:] {
		c := make([]sheet.Cell, len(row))
		for i, v := range row {
			c[i] = v
		}
		cells = append(cells, c)
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "xlsx" {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="yeu-cau.xlsx"`)
		_ = sheet.WriteXLSX(w, "Yêu cầu", rows[0], cells) // the client went away: nothing to do
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="yeu-cau.csv"`)
	_ = sheet.WriteCSV(w, rows[0], cells) // the client went away: nothing to do
}

func (s *Server) apiRequestBulkAssign(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs        []int64 `json:"ids"`
		AssigneeID int64   `json:"assignee_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	n, err := s.requests.BulkAssign(r.Context(), principalOf(r), in.IDs, in.AssigneeID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"assigned": n})
}

func (s *Server) apiRequestTimeline(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out, err := s.requests.Timeline(r.Context(), principalOf(r), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(out, ""))
}

func (s *Server) apiRequestAction(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var c request.Change
	if err := decodeJSON(r, &c); err != nil {
		s.apiError(w, r, err)
		return
	}
	out, err := s.requests.Handle(r.Context(), principalOf(r), id, c)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiRequestReopen(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	out, err := s.requests.Reopen(r.Context(), principalOf(r), id, in.Reason)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.wakeJobs()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiRequestRate(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in struct {
		Rating  int    `json:"rating"`
		Comment string `json:"comment"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	out, err := s.requests.Rate(r.Context(), principalOf(r), id, in.Rating, in.Comment)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiRequestFollow(w http.ResponseWriter, r *http.Request)   { s.apiFollow(w, r, true) }
func (s *Server) apiRequestUnfollow(w http.ResponseWriter, r *http.Request) { s.apiFollow(w, r, false) }

func (s *Server) apiFollow(w http.ResponseWriter, r *http.Request, on bool) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out, err := s.requests.Follow(r.Context(), principalOf(r), id, on)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiRequestStats(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	days, err := apiQueryInt(r, "days")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if days == 0 || days > 3660 {
		days = 365
	}
	st, err := s.requests.UnitStats(r.Context(), id, time.Now().Add(-time.Duration(days)*24*time.Hour))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) apiRequestNotifications(w http.ResponseWriter, r *http.Request) {
	ns, err := s.requests.Notifications(r.Context(), principalOf(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(ns, ""))
}

func (s *Server) apiOpen311Keys(w http.ResponseWriter, r *http.Request) {
	ks, err := s.requests.APIKeys(r.Context(), principalOf(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(ks, ""))
}

func (s *Server) apiOpen311KeyCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	k, err := s.requests.CreateAPIKey(r.Context(), principalOf(r), in.Name, false)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, k)
}
