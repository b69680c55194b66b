package web

import (
	"net/http"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/notify"
)

func (s *Server) apiNoticePreview(w http.ResponseWriter, r *http.Request) {
	var in notice.Input
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	n, err := s.notices.Preview(r.Context(), principalOf(r), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"households": n})
}

func (s *Server) apiNoticeList(w http.ResponseWriter, r *http.Request) {
	limit, err := apiQueryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	page, err := s.notices.List(r.Context(), principalOf(r), r.URL.Query().Get("after"), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(page.Items, page.Next))
}

func (s *Server) apiNoticeInbox(w http.ResponseWriter, r *http.Request) {
	limit, err := apiQueryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	page, err := s.notices.Inbox(r.Context(), principalOf(r), r.URL.Query().Get("after"), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(page.Items, page.Next))
}

func (s *Server) apiNoticeProxyAck(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	hid, err := apiPathID(r, "hid")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	d, err := s.notices.ProxyAck(r.Context(), principalOf(r), id, hid, in.Note)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiNoticeNote(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in struct {
		UnitID int64  `json:"unit_id"`
		Body   string `json:"body"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	n, err := s.notices.AddNote(r.Context(), principalOf(r), id, in.UnitID, in.Body)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

func (s *Server) apiNoticeReach(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	unit, err := apiQueryInt(r, "unit_id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rc, err := s.notices.Reach(r.Context(), principalOf(r), id, unit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rc)
}

func (s *Server) apiNoticeUnreached(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	unit, err := apiQueryInt(r, "unit_id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit, err := apiQueryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	page, err := s.notices.Unreached(r.Context(), principalOf(r), id, notice.UnreachedFilter{UnitID: unit, After: r.URL.Query().Get("after"), Limit: limit})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(page.Items, page.Next))
}

func (s *Server) apiNoticeHistory(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit, err := apiQueryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	h, err := s.notices.History(r.Context(), principalOf(r), id, limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// channels returns the delivery channels or answers 503.
func (s *Server) channels(w http.ResponseWriter, r *http.Request) *notify.Service {
	nt := s.notices.Notify()
	if nt == nil {
		s.apiUnavailable(w, r, "Chưa cấu hình kênh gửi thông báo.", "Delivery channels are not configured.")
	}
	return nt
}

func (s *Server) apiPushKey(w http.ResponseWriter, r *http.Request) {
	if nt := s.channels(w, r); nt != nil {
		writeJSON(w, http.StatusOK, map[string]string{"public_key": nt.VAPIDPublicKey()})
	}
}

func (s *Server) apiPushSubscribe(w http.ResponseWriter, r *http.Request) {
	nt := s.channels(w, r)
	if nt == nil {
		return
	}
	if principalOf(r) == nil {
		s.apiError(w, r, apperr.ErrUnauthenticated)
		return
	}
	var in struct {
		Endpoint       string `json:"endpoint"`
		ExpirationTime *int64 `json:"expirationTime,omitempty"`
		Keys           struct {
			P256dh string `json:"p256dh"`
			Auth   string `json:"auth"`
		} `json:"keys"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	sub := notify.Subscription{Endpoint: in.Endpoint, P256dh: in.Keys.P256dh, Auth: in.Keys.Auth}
	if err := nt.Subscribe(r.Context(), principalOf(r), sub); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiNotifyPrefs(w http.ResponseWriter, r *http.Request) {
	nt := s.channels(w, r)
	if nt == nil {
		return
	}
	p, err := nt.Prefs(r.Context(), principalOf(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiNotifyPrefsSet(w http.ResponseWriter, r *http.Request) {
	nt := s.channels(w, r)
	if nt == nil {
		return
	}
	var in notify.Prefs
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := nt.SetPrefs(r.Context(), principalOf(r), in); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

// apiMeEmail sets the signed-in account's email address: {"email"} ("" removes it).
func (s *Server) apiMeEmail(w http.ResponseWriter, r *http.Request) {
	nt := s.channels(w, r)
	if nt == nil {
		return
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	email, err := nt.SetEmail(r.Context(), principalOf(r), in.Email)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"email": email})
}
