package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/sheet"
)

type reachData struct {
	Notice  notice.View
	Reach   notice.Reach
	UnitID  int64
	SelfURL string
	Unreach string // link to the unreached list of the same scope
	liveFields
}

// noticeReachPage is the reach dashboard: households targeted, delivered,
// seen and acknowledged, by level. The figures are live while the page is
// open: a reach event of the notice (at most one a second) reloads them
// (?part=reach).
func (s *Server) noticeReachPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx, p := r.Context(), principalOf(r)
	unit, _ := strconv.ParseInt(r.URL.Query().Get("unit_id"), 10, 64)
	v, err := s.notices.Get(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	rc, err := s.notices.Reach(ctx, p, id, unit)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := reachData{Notice: v, Reach: rc, UnitID: unit, SelfURL: r.URL.Path, Unreach: fmt.Sprintf("/notices/%d/unreached", id)}
	if unit != 0 {
		d.SelfURL += "?unit_id=" + strconv.FormatInt(unit, 10)
		d.Unreach += "?unit_id=" + strconv.FormatInt(unit, 10)
	}
	live := r.URL.Path + "?part=reach"
	if unit != 0 {
		live += "&unit_id=" + strconv.FormatInt(unit, 10)
	}
	d.liveFields = s.liveFields(live, notice.ReachTopic(id))
	if r.URL.Query().Get("part") == "reach" {
		s.renderPart(w, r, "notice_reach.html", "reach", d)
		return
	}
	s.render(w, r, http.StatusOK, "notice_reach.html", v.Title, d, flash(r))
}

type unreachedData struct {
	Notice  notice.View
	Page    notice.Page[notice.Unreached]
	UnitID  int64
	Query   string // "?unit_id=…" or ""
	NextURL string
	Start   int
	Lang    string
}

// FlagLabels names a household's flags in the page's language.
func (d unreachedData) FlagLabels(u notice.Unreached) string {
	return strings.Join(u.Flags.Labels(d.Lang), ", ")
}

// noticeUnreachedPage is the door-to-door list: the households still to be
// told, with address and head of household, printable on A4, with a "told
// in person" button for each.
func (s *Server) noticeUnreachedPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx, p, q := r.Context(), principalOf(r), r.URL.Query()
	unit, _ := strconv.ParseInt(q.Get("unit_id"), 10, 64)
	v, err := s.notices.Get(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	page, err := s.notices.Unreached(ctx, p, id, notice.UnreachedFilter{UnitID: unit, After: q.Get("after"), Limit: 200})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := unreachedData{Notice: v, Page: page, UnitID: unit, Lang: langOf(r)}
	if unit != 0 {
		d.Query = "?unit_id=" + strconv.FormatInt(unit, 10)
	}
	if page.Next != "" {
		vals := url.Values{"after": {page.Next}}
		if unit != 0 {
			vals.Set("unit_id", strconv.FormatInt(unit, 10))
		}
		d.NextURL = fmt.Sprintf("/notices/%d/unreached?%s", id, vals.Encode())
	}
	s.render(w, r, http.StatusOK, "notice_unreached.html", translate(langOf(r), "notice.unreached"), d, flash(r))
}

func (s *Server) noticeProxyAck(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	hid, err := apiPathID(r, "hid")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if _, err := s.notices.ProxyAck(r.Context(), principalOf(r), id, hid, r.PostFormValue("note")); err != nil {
		s.pageError(w, r, err)
		return
	}
	back := fmt.Sprintf("/notices/%d/unreached?msg=notice_proxy_acked", id)
	if u := r.PostFormValue("unit_id"); u != "" && u != "0" {
		back += "&unit_id=" + url.QueryEscape(u)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// unreachedRows pages through the whole list for an export (audited once).
func (s *Server) unreachedRows(r *http.Request) ([]string, [][]sheet.Cell, int64, error) {
	id, err := apiPathID(r, "id")
	if err != nil {
		return nil, nil, 0, err
	}
	unit, _ := strconv.ParseInt(r.URL.Query().Get("unit_id"), 10, 64)
	lang := langOf(r)
	header := []string{translate(lang, "notice.col.unit"), translate(lang, "notice.col.code"), translate(lang, "notice.col.address"),
		translate(lang, "notice.col.head"), translate(lang, "notice.col.flags"), translate(lang, "notice.col.status")}
	var rows [][]sheet.Cell
	after := ""
	for {
		page, err := s.notices.Unreached(r.Context(), principalOf(r), id, notice.UnreachedFilter{UnitID: unit, After: after, Limit: 5000, Export: true})
		if err != nil {
			return nil, nil, 0, err
		}
		for _, u := range page.Items {
			status := translate(lang, "notice.status.not_delivered")
			if u.DeliveredAt != nil {
				status = translate(lang, "notice.status.delivered")
			}
			rows = append(rows, []sheet.Cell{u.UnitName, u.Code, u.Address, u.HeadName, strings.Join(u.Flags.Labels(lang), ", "), status})
		}
		if page.Next == "" {
			return header, rows, id, nil
		}
		after = page.Next
	}
}

func (s *Server) noticeUnreachedCSV(w http.ResponseWriter, r *http.Request) {
	header, rows, id, err := s.unreachedRows(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := sheet.WriteCSV(&b, header, rows); err != nil {
		s.pageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ho-chua-nhan-thong-bao-%d.csv"`, id))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

func (s *Server) noticeUnreachedXLSX(w http.ResponseWriter, r *http.Request) {
	header, rows, id, err := s.unreachedRows(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := sheet.WriteXLSX(&b, translate(langOf(r), "notice.unreached"), header, rows); err != nil {
		s.pageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ho-chua-nhan-thong-bao-%d.xlsx"`, id))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

type historyData struct {
	UnitID  int64
	Name    string
	History notice.History
}

func (s *Server) noticeHistoryPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	h, err := s.notices.History(r.Context(), principalOf(r), id, 8)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	u, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "notice_history.html", translate(langOf(r), "notice.history"), historyData{UnitID: id, Name: u.FullName, History: h}, "")
}
