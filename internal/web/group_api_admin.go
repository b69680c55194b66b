package web

import (
	"net/http"
	"time"

	"github.com/trothu/trothu/internal/group"
)

// The group room's API for members, invite links and the moderation queue.

func (s *Server) apiGroupMembers(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	after, limit, err := apiAfterLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit = group.PageLimit(limit)
	ms, err := s.groups.Members(r.Context(), principalOf(r), ids[0], r.URL.Query().Get("state"), after, limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	next := ""
	if len(ms) == limit {
		next = itoa(ms[len(ms)-1].AccountID)
	}
	writeJSON(w, http.StatusOK, apiListOf(ms, next))
}

func (s *Server) apiGroupModerateMember(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "account")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		Action  group.MemberAction `json:"action"`
		Minutes int                `json:"minutes"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.groups.Moderate(r.Context(), principalOf(r), ids[0], ids[1], b.Action, b.Minutes); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiGroupInviteCreate(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		Hours int `json:"hours"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &b); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	inv, err := s.groups.CreateInvite(r.Context(), principalOf(r), ids[0], time.Duration(b.Hours)*time.Hour)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"invite": inv, "url": "/join/" + inv.Token})
}

func (s *Server) apiGroupInviteRevoke(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "invite")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.groups.RevokeInvite(r.Context(), principalOf(r), ids[0], ids[1]); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiGroupReports(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	after, limit, err := apiAfterLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit = group.PageLimit(limit)
	rs, err := s.groups.Reports(r.Context(), principalOf(r), ids[0], r.URL.Query().Get("all") == "", after, limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	next := ""
	if len(rs) == limit {
		next = itoa(rs[len(rs)-1].ID)
	}
	writeJSON(w, http.StatusOK, apiListOf(rs, next))
}

func (s *Server) apiGroupReportDismiss(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "report")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.groups.DismissReport(r.Context(), principalOf(r), ids[0], ids[1]); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiInviteShow(w http.ResponseWriter, r *http.Request) {
	g, err := s.groups.InviteGroup(r.Context(), principalOf(r), r.PathValue("token"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, g)
}

func (s *Server) apiInviteAccept(w http.ResponseWriter, r *http.Request) {
	d, err := s.groups.AcceptInvite(r.Context(), principalOf(r), r.PathValue("token"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
