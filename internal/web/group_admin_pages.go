package web

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/group"
	"github.com/trothu/trothu/internal/qr"
)

type membersData struct {
	G       group.Detail
	Members []group.Member
	Pending []group.Member
	Banned  []group.Member
	NextURL string
	Oversee bool // an official over the group's unit: may hand ownership over
}

func (s *Server) groupMembersPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx, p := r.Context(), principalOf(r)
	det, err := s.groups.Get(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	d := membersData{G: det, Oversee: p.Can(account.ActManageGroups, det.UnitPath)}
	if d.Members, err = s.groups.Members(ctx, p, id, group.StateActive, after, 100); err != nil {
		s.pageError(w, r, err)
		return
	}
	if len(d.Members) == 100 {
		d.NextURL = "/groups/" + itoa(id) + "/members?after=" + itoa(d.Members[99].AccountID)
	}
	if det.CanModerate && after == 0 {
		if d.Pending, err = s.groups.Members(ctx, p, id, group.StatePending, 0, 100); err != nil {
			s.pageError(w, r, err)
			return
		}
		if d.Banned, err = s.groups.Members(ctx, p, id, group.StateBanned, 0, 100); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "group_members.html", det.Name, d, flash(r))
}

func (s *Server) groupMemberAction(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "account")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	minutes, _ := strconv.Atoi(r.PostFormValue("minutes"))
	act := group.MemberAction(r.PostFormValue("action"))
	if err := s.groups.Moderate(r.Context(), principalOf(r), ids[0], ids[1], act, minutes); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/groups/"+itoa(ids[0])+"/members?msg=saved", http.StatusSeeOther)
}

type invitesData struct {
	G       group.Detail
	Invites []inviteView
	New     string        // the link just made: shown once
	QR      template.HTML // the same link as an inline SVG QR code
}

type inviteView struct {
	group.Invite
	Expires string
	Active  bool
}

func (s *Server) groupInvitesPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.showInvites(w, r, id, "")
}

func (s *Server) showInvites(w http.ResponseWriter, r *http.Request, id int64, newLink string) {
	ctx, p := r.Context(), principalOf(r)
	det, err := s.groups.Get(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	inv, err := s.groups.Invites(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := invitesData{G: det, New: newLink}
	if newLink != "" {
		code, err := qr.Encode([]byte(newLink))
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		// The SVG is built from numbers only by internal/qr, so it is safe markup.
		d.QR = template.HTML(code.SVG())
	}
	now := time.Now().UnixMilli()
	for _, i := range inv {
		d.Invites = append(d.Invites, inviteView{Invite: i, Expires: fmtTime(i.ExpiresAt), Active: i.RevokedAt == 0 && i.ExpiresAt > now})
	}
	s.render(w, r, http.StatusOK, "group_invites.html", det.Name, d, flash(r))
}

func (s *Server) groupInviteCreatePage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	inv, err := s.groups.CreateInvite(r.Context(), principalOf(r), id, time.Duration(days)*24*time.Hour)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	scheme := "http"
	if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	s.showInvites(w, r, id, scheme+"://"+r.Host+"/join/"+inv.Token)
}

func (s *Server) groupInviteRevokePage(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "invite")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := s.groups.RevokeInvite(r.Context(), principalOf(r), ids[0], ids[1]); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/groups/"+itoa(ids[0])+"/invites?msg=saved", http.StatusSeeOther)
}

type moderationData struct {
	G       group.Detail
	Reports []reportView
}

type reportView struct {
	group.Report
	Time string
	Msg  msgView
}

func (s *Server) groupModerationPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx, p := r.Context(), principalOf(r)
	det, err := s.groups.Get(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	rs, err := s.groups.Reports(ctx, p, id, true, after, 50)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := moderationData{G: det}
	for _, rep := range rs {
		d.Reports = append(d.Reports, reportView{Report: rep, Time: fmtTime(rep.CreatedAt), Msg: s.msgViews(p, []group.Message{rep.Message}, langOf(r), newLabels(langOf(r), r.URL.Path, true, true))[0]})
	}
	s.render(w, r, http.StatusOK, "group_moderation.html", det.Name, d, flash(r))
}

func (s *Server) groupReportDismissPage(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "report")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := s.groups.DismissReport(r.Context(), principalOf(r), ids[0], ids[1]); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/groups/"+itoa(ids[0])+"/moderation?msg=saved", http.StatusSeeOther)
}

type joinData struct {
	G     group.Group
	State string
	Token string
}

func (s *Server) joinPage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		http.Redirect(w, r, "/signin?next="+r.URL.Path, http.StatusSeeOther)
		return
	}
	g, err := s.groups.InviteGroup(r.Context(), p, r.PathValue("token"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "group_join.html", g.Name, joinData{G: g, Token: r.PathValue("token")}, "")
}

func (s *Server) joinAccept(w http.ResponseWriter, r *http.Request) {
	d, err := s.groups.AcceptInvite(r.Context(), principalOf(r), r.PathValue("token"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/groups/"+itoa(d.ID), http.StatusSeeOther)
}
