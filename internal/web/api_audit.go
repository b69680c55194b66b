package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
)

type auditItem struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	ActorID     int64     `json:"actor_id,omitempty"`
	ActorName   string    `json:"actor_name,omitempty"`
	Action      string    `json:"action"`
	SubjectType string    `json:"subject_type,omitempty"`
	SubjectID   string    `json:"subject_id,omitempty"`
	IP          string    `json:"ip,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

// apiAuditList pages the audit log backwards (?before= is the Next of the
// previous page) within the subtrees where the caller may view it. Entries
// filed under no unit (sign-ins of accounts without a grant) are shown only
// to those who may view the whole country's log.
func (s *Server) apiAuditList(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.apiError(w, r, apperr.ErrUnauthenticated)
		return
	}
	scopes := p.Scopes(account.ActViewAudit)
	if len(scopes) == 0 {
		s.apiError(w, r, apperr.ErrForbidden)
		return
	}
	before, err := apiQueryInt(r, "before")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	actor, err := apiQueryInt(r, "actor_id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit, err := apiQueryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	entries, err := audit.List(r.Context(), s.db, audit.Filter{
		Scopes: scopes, Unfiled: rootScope(scopes), Action: r.URL.Query().Get("action"), ActorID: actor, Before: before, Limit: limit,
	})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items := make([]auditItem, 0, len(entries))
	for _, e := range entries {
		items = append(items, auditItem{ID: e.ID, At: time.UnixMilli(e.At).UTC(), ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action,
			SubjectType: e.SubjectType, SubjectID: e.SubjectID, IP: e.IP, Detail: e.Detail})
	}
	next := ""
	if len(items) == limit {
		next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, apiListOf(items, next))
}

// rootScope reports whether one of the scopes is the root of the tree (the
// country, the only unit whose path has one segment: "/1/").
func rootScope(scopes []string) bool {
	for _, sc := range scopes {
		if strings.Count(sc, "/") == 2 {
			return true
		}
	}
	return false
}
