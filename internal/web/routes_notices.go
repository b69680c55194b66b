package web

import (
	"net/http"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/notice"
)

// noticeRoutes registers the announcement pages, their JSON API and the
// service worker that shows Web Push notifications.
func (s *Server) noticeRoutes() {
	if s.notices == nil {
		return
	}
	s.handle("GET /sw.js", s.serviceWorker)
	s.noticeTopics()

	s.handle("GET /notices", s.noticesPage)
	s.handle("GET /notices/new", s.noticeComposePage)
	s.handle("POST /notices", s.noticeCreate)
	s.handle("POST /notices/prefs", s.noticePrefsSave)
	s.handle("POST /account/email", s.accountEmailSave)
	s.handle("GET /notices/{id}", s.noticePage)
	s.handle("POST /notices/{id}/ack", s.noticeAck)
	s.handle("POST /notices/{id}/notes", s.noticeNoteAdd)
	s.handle("GET /notices/{id}/reach", s.noticeReachPage)
	s.handle("GET /notices/{id}/unreached", s.noticeUnreachedPage)
	s.handle("GET /notices/{id}/unreached.csv", s.noticeUnreachedCSV)
	s.handle("GET /notices/{id}/unreached.xlsx", s.noticeUnreachedXLSX)
	s.handle("POST /notices/{id}/households/{hid}/ack", s.noticeProxyAck)
	s.handle("GET /notices/{id}/attachments/{aid}", s.noticeAttachment)
	s.handle("GET /units/{id}/notices", s.noticeHistoryPage)

	s.api("POST", "/notices", apiCreate(s, s.notices.Create))
	s.api("POST", "/notices/preview", s.apiNoticePreview)
	s.api("GET", "/notices", s.apiNoticeList)
	s.api("GET", "/notices/inbox", s.apiNoticeInbox)
	s.api("GET", "/notices/{id}", apiByID(s, s.notices.Get))
	s.api("POST", "/notices/{id}/ack", s.apiNoticeAck) // no body: the signed-in member's household
	s.api("POST", "/notices/{id}/notes", s.apiNoticeNote)
	s.api("POST", "/notices/{id}/attachments", s.apiNoticeAttach)
	s.api("POST", "/notices/{id}/households/{hid}/ack", s.apiNoticeProxyAck)
	s.api("GET", "/notices/{id}/reach", s.apiNoticeReach)
	s.api("GET", "/notices/{id}/unreached", s.apiNoticeUnreached)
	s.api("GET", "/units/{id}/notice-history", s.apiNoticeHistory)
	s.api("GET", "/push/key", s.apiPushKey)
	s.api("POST", "/push/subscriptions", s.apiPushSubscribe)
	s.api("GET", "/me/notify-prefs", s.apiNotifyPrefs)
	s.api("PUT", "/me/notify-prefs", s.apiNotifyPrefsSet)
	s.api("POST", "/me/email", s.apiMeEmail)
}

// apiNoticeAck acknowledges a notice for the signed-in member's household.
// Its session is authenticated by the acknowledgement's batch
// (authDeferred); a failed authentication is answered as the
// authenticate middleware answers it.
func (s *Server) apiNoticeAck(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	t, deferred := deferredToken(r)
	if deferred {
		if err != nil {
			// Answer as if authenticated first: a bad token before a bad id.
			if r, ok := s.authRequest(w, r); ok {
				s.apiError(w, r, err)
			}
			return
		}
		d, authenticated, err := s.notices.AckToken(r.Context(), t.token, id)
		if !authenticated {
			// Authentication failed: a bearer token's error, or a cleared
			// cookie and an anonymous request.
			if r, ok := s.authenticated(w, r, t, nil, err); ok {
				s.apiError(w, r, apperr.ErrUnauthenticated)
			}
			return
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
		return
	}
	var d notice.Delivery
	if err == nil {
		if d, err = s.notices.Ack(r.Context(), principalOf(r), id); err == nil {
			writeJSON(w, http.StatusOK, d)
			return
		}
	}
	s.apiError(w, r, err)
}
