package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/request"
)

// requestNotifyRoutes registers the residents' page of request
// notifications ("Thông báo về phản ánh"): newest first, paged, unread
// marked, mark-as-read; the page updates live from the account's
// realtime topic (request_notes.js).
func (s *Server) requestNotifyRoutes() {
	s.handle("GET /requests/notifications", s.reqNotesPage)
	s.handle("POST /requests/notifications/read", s.reqNotesRead)
	s.handle("GET /requests/notifications/open/{id}", s.reqNoteOpen)
	s.api("POST", "/me/request-notifications/read", s.apiReqNotesRead)
}

// apiReqNotesRead marks the signed-in account's request notifications read:
// {"ids":[…]}, or all of them without ids. It answers how many changed and
// how many stay unread.
func (s *Server) apiReqNotesRead(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs []int64 `json:"ids"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	p := principalOf(r)
	n, err := s.requests.MarkNotificationsSeen(r.Context(), p, in.IDs)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	unread, err := s.requests.UnreadNotifications(r.Context(), p)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"marked": n, "unread": unread})
}

type reqNotesData struct {
	Items   []request.NotificationItem
	Unread  int
	NextURL string
	First   bool
	PushKey string // the browser may turn push on here too (notice.js)
}

func (s *Server) reqNotesPage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	items, next, err := s.requests.NotificationPage(r.Context(), p, before, 20)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	unread, err := s.requests.UnreadNotifications(r.Context(), p)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := reqNotesData{Items: items, Unread: unread, First: before == 0}
	if next != 0 {
		d.NextURL = "/requests/notifications?before=" + itoa(next)
	}
	if s.notices != nil {
		if nt := s.notices.Notify(); nt != nil {
			d.PushKey = nt.VAPIDPublicKey()
		}
	}
	s.render(w, r, http.StatusOK, "request_notifications.html", translate(langOf(r), "reqnote.title"), d, flash(r))
}

// reqNotesRead marks the posted ids read, or all of them without an id.
func (s *Server) reqNotesRead(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, err)
		return
	}
	ids := postedIDs(r)
	if _, err := s.requests.MarkNotificationsSeen(r.Context(), principalOf(r), ids); err != nil {
		s.pageError(w, r, err)
		return
	}
	back := "/requests/notifications"
	if b := r.PostFormValue("before"); b != "" {
		if _, err := strconv.ParseInt(b, 10, 64); err == nil {
			back += "?before=" + b
		}
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// reqNoteOpen marks one notification read and opens its request.
func (s *Server) reqNoteOpen(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	rid, _ := strconv.ParseInt(r.URL.Query().Get("r"), 10, 64)
	if _, err := s.requests.MarkNotificationsSeen(r.Context(), principalOf(r), []int64{id}); err != nil {
		s.pageError(w, r, err)
		return
	}
	if rid <= 0 {
		http.Redirect(w, r, "/requests/notifications", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/requests/"+itoa(rid), http.StatusSeeOther)
}

// requestUnread is the layout's badge: the signed-in account's unread
// request notifications (0 on any error; the page itself reports those).
func (s *Server) requestUnread(p *account.Principal) int {
	if p == nil || s.requests == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := s.requests.UnreadNotifications(ctx, p)
	if err != nil {
		return 0
	}
	return n
}
