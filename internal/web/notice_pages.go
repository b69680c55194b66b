package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/notify"
)

type noticesData struct {
	Inbox     *notice.Page[notice.InboxItem]
	List      *notice.Page[notice.Notice]
	CanSend   bool
	Prefs     notify.Prefs
	PushKey   string
	InboxNext string
	ListNext  string
	Unread    int // notices on the inbox page nobody in the household has opened
	liveFields
}

// noticesPage is "Thông báo": a resident's inbox and, for officials, the
// notices of their area. The inbox is live: a notice sent to the household,
// or acknowledged by another member, reloads it (?part=inbox) while the
// page is open.
func (s *Server) noticesPage(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), principalOf(r)
	if p == nil {
		s.pageError(w, r, apperr.ErrUnauthenticated)
		return
	}
	var d noticesData
	q := r.URL.Query()
	if p.ResidentID != 0 {
		in, err := s.notices.Inbox(ctx, p, q.Get("after"), 20)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.Inbox = &in
		if in.Next != "" {
			d.InboxNext = "/notices?after=" + url.QueryEscape(in.Next)
		}
		d.Unread = unread(in.Items)
		topics, err := s.notices.InboxTopics(ctx, p)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		self := "/notices?part=inbox"
		if a := q.Get("after"); a != "" {
			self += "&after=" + url.QueryEscape(a)
		}
		d.liveFields = s.liveFields(self, topics...)
		if q.Get("part") == "inbox" {
			s.renderPart(w, r, "notice_list.html", "inbox", d)
			return
		}
	}
	d.CanSend = p.CanAnywhere(account.ActSendNotice)
	if d.CanSend || p.CanAnywhere(account.ActViewReach) {
		l, err := s.notices.List(ctx, p, q.Get("list_after"), 20)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.List = &l
		if l.Next != "" {
			d.ListNext = "/notices?list_after=" + url.QueryEscape(l.Next)
		}
	}
	if nt := s.notices.Notify(); nt != nil {
		d.PushKey = nt.VAPIDPublicKey()
		var err error
		if d.Prefs, err = nt.Prefs(ctx, p); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "notice_list.html", translate(langOf(r), "notice.title"), d, flash(r))
}

func (s *Server) noticePrefsSave(w http.ResponseWriter, r *http.Request) {
	nt := s.notices.Notify()
	if nt == nil {
		s.pageError(w, r, apperr.New(apperr.Unavailable, "Chưa cấu hình kênh gửi thông báo.", "Delivery channels are not configured."))
		return
	}
	p := principalOf(r)
	prefs, err := nt.Prefs(r.Context(), p)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	prefs.Digest = r.PostFormValue("digest") == "1"
	if err := nt.SetPrefs(r.Context(), p, prefs); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/notices?msg=saved", http.StatusSeeOther)
}

type noticeView struct {
	notice.View
	Lang string
}

// PriorityLabel names the notice's priority.
func (v noticeView) PriorityLabel() string {
	return translate(v.Lang, "notice.priority."+string(v.Priority))
}

func (s *Server) noticePage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v, err := s.notices.Get(r.Context(), principalOf(r), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "notice_view.html", v.Title, noticeView{View: v, Lang: langOf(r)}, flash(r))
}

func (s *Server) noticeAck(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if _, err := s.notices.Ack(r.Context(), principalOf(r), id); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/notices/%d?msg=notice_acked", id), http.StatusSeeOther)
}

func (s *Server) noticeNoteAdd(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	unit, _ := strconv.ParseInt(r.PostFormValue("unit_id"), 10, 64)
	if _, err := s.notices.AddNote(r.Context(), principalOf(r), id, unit, r.PostFormValue("body")); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/notices/%d?msg=notice_note_added", id), http.StatusSeeOther)
}

type composeData struct {
	Units    []area.UnitSummary
	Orgs     []area.Organisation // of the units where p holds a grant
	FlagOpts []flagOpt
	Form     composeForm
	Preview  int
	Shown    bool // a preview was asked for
	Error    string
}

type composeForm struct {
	UnitID, OrgID     int64
	Flags             int
	Title, Body       string
	Priority          string
	Ack, SMS          bool
	SendAt, ExpiresAt string
}

// sendableUnits lists where p may send: each granted unit and the local
// units below it.
func (s *Server) sendableUnits(r *http.Request, p *account.Principal) []area.UnitSummary {
	var out []area.UnitSummary
	seen := map[int64]bool{}
	for _, g := range p.Grants {
		if !p.Can(account.ActSendNotice, g.UnitPath) || seen[g.UnitID] {
			continue
		}
		u, err := s.areas.Unit(r.Context(), g.UnitID)
		if err != nil {
			continue
		}
		list := []area.UnitSummary{{Unit: u}}
		if u.Level.HoldsHouseholds() {
			list, _ = s.placeableUnits(r, u) // best effort: the granted unit itself is always there
		}
		for _, x := range list {
			if !seen[x.ID] {
				seen[x.ID] = true
				out = append(out, x)
			}
		}
	}
	return out
}

// composeOrgs lists the organisations of the units p may send to at the
// top of each grant (a Party cell, a mass organisation), best effort.
func (s *Server) composeOrgs(r *http.Request, p *account.Principal) []area.Organisation {
	var out []area.Organisation
	for _, g := range p.Grants {
		if p.Can(account.ActSendNotice, g.UnitPath) {
			orgs, _ := s.areas.ListOrganisations(r.Context(), g.UnitID) // best effort: the select may be empty
			out = append(out, orgs...)
		}
	}
	return out
}

func (s *Server) noticeComposePage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.pageError(w, r, apperr.ErrUnauthenticated)
		return
	}
	if !p.CanAnywhere(account.ActSendNotice) {
		s.pageError(w, r, apperr.ErrForbidden)
		return
	}
	q := r.URL.Query()
	d := composeData{Units: s.sendableUnits(r, p), Orgs: s.composeOrgs(r, p), FlagOpts: flagOptions(langOf(r))}
	d.Form = composeForm{Title: q.Get("title"), Body: q.Get("body"), Priority: q.Get("priority"), Ack: q.Get("ack_required") == "1", SMS: q.Get("sms_all") == "1",
		SendAt: q.Get("send_at"), ExpiresAt: q.Get("expires_at")}
	d.Form.UnitID, _ = strconv.ParseInt(q.Get("unit_id"), 10, 64)
	d.Form.Flags, _ = strconv.Atoi(q.Get("flags"))
	d.Form.OrgID, _ = strconv.ParseInt(q.Get("org_id"), 10, 64)
	if d.Form.UnitID != 0 {
		n, err := s.notices.Preview(r.Context(), p, notice.Input{UnitID: d.Form.UnitID, Flags: area.Flags(d.Form.Flags), OrgID: d.Form.OrgID})
		if err != nil {
			d.Error = message(r, err)
		} else {
			d.Preview, d.Shown = n, true
		}
	}
	s.render(w, r, http.StatusOK, "notice_compose.html", translate(langOf(r), "notice.compose"), d, "")
}

// parseLocal reads a datetime-local field in Vietnam's time; empty is nil.
func parseLocal(v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, hcm)
	if err != nil {
		return nil, apperr.InvalidField("send_at", "Thời điểm không hợp lệ.", "Invalid date and time.")
	}
	return &t, nil
}

func (s *Server) noticeCreate(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	perr := parseNoticeForm(w, r)
	if perr != nil && codeOf(perr) != apperr.Invalid {
		s.pageError(w, r, perr)
		return
	}
	f := composeForm{Title: r.PostFormValue("title"), Body: r.PostFormValue("body"), Priority: r.PostFormValue("priority"),
		Ack: r.PostFormValue("ack_required") == "1", SMS: r.PostFormValue("sms_all") == "1", SendAt: r.PostFormValue("send_at"), ExpiresAt: r.PostFormValue("expires_at")}
	f.UnitID, _ = strconv.ParseInt(r.PostFormValue("unit_id"), 10, 64)
	f.Flags, _ = strconv.Atoi(r.PostFormValue("flags"))
	f.OrgID, _ = strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	in := notice.Input{UnitID: f.UnitID, OrgID: f.OrgID, Flags: area.Flags(f.Flags), Title: f.Title, Body: f.Body, Priority: notice.Priority(f.Priority), AckRequired: f.Ack, SMSAll: f.SMS}
	err := perr
	var files []uploaded
	if err == nil {
		files, err = formFiles(r, "files")
	}
	if err == nil {
		if in.SendAt, err = parseLocal(f.SendAt); err == nil {
			in.ExpiresAt, err = parseLocal(f.ExpiresAt)
		}
	}
	var n notice.Notice
	if err == nil {
		n, err = s.notices.Create(r.Context(), p, in)
	}
	for _, fl := range files {
		if err != nil {
			break
		}
		_, err = s.notices.AddAttachment(r.Context(), p, n.ID, fl.name, fl.data)
	}
	if err != nil {
		if code := codeOf(err); code == apperr.Invalid {
			d := composeData{Units: s.sendableUnits(r, p), Orgs: s.composeOrgs(r, p), FlagOpts: flagOptions(langOf(r)), Form: f, Error: message(r, err)}
			s.render(w, r, http.StatusBadRequest, "notice_compose.html", translate(langOf(r), "notice.compose"), d, "")
			return
		}
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/notices/%d/reach?msg=notice_sent", n.ID), http.StatusSeeOther)
}

// serviceWorker serves /sw.js from a stable URL at the site root, so it
// may control every page and show push notifications.
func (s *Server) serviceWorker(w http.ResponseWriter, r *http.Request) {
	body, err := staticFS.ReadFile("static/sw.js")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Service-Worker-Allowed", "/")
	_, _ = w.Write(body)
}

// accountEmail fills the account page's email card from the delivery
// channels, when there are any.
func (s *Server) accountEmail(r *http.Request, d *accountData) error {
	nt := s.notices.Notify()
	if nt == nil {
		return nil
	}
	prefs, err := nt.Prefs(r.Context(), principalOf(r))
	d.Email, d.HasEmail = prefs.Email, true
	return err
}

// accountEmailSave saves the email address set on the account page.
func (s *Server) accountEmailSave(w http.ResponseWriter, r *http.Request) {
	nt := s.notices.Notify()
	if nt == nil {
		s.pageError(w, r, apperr.New(apperr.Unavailable, "Chưa cấu hình kênh gửi thông báo.", "Delivery channels are not configured."))
		return
	}
	_, err := nt.SetEmail(r.Context(), principalOf(r), r.PostFormValue("email"))
	s.accountFormResult(w, r, err, "email_set")
}
