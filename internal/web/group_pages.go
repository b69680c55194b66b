package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/group"
)

// groupPageRoutes registers the group pages. Every action is a plain form
// post that redirects back, so the chat works without JavaScript; group.js
// adds realtime updates and posting in place.
func (s *Server) groupPageRoutes() {
	s.handle("GET /groups", s.groupsPage)
	s.handle("POST /groups", s.groupCreatePage)
	s.handle("GET /groups/search", s.groupSearchPage)
	s.handle("GET /groups/{id}", s.groupChatPage)
	s.handle("GET /groups/{id}/messages/{mid}", s.groupThreadPage)
	s.handle("GET /groups/{id}/fragment", s.groupFragment)
	s.handle("GET /groups/{id}/settings", s.groupSettingsPage)
	s.handle("POST /groups/{id}/settings", s.groupSettingsSave)
	s.handle("POST /groups/{id}/messages", s.groupPostPage)
	s.handle("POST /groups/{id}/messages/{mid}/{action}", s.groupMessageAction)
	s.handle("POST /groups/{id}/join", s.groupJoinPage)
	s.handle("POST /groups/{id}/leave", s.groupLeavePage)
	s.handle("GET /groups/{id}/photos/{name}", s.groupPhoto)
	s.handle("GET /groups/{id}/members", s.groupMembersPage)
	s.handle("POST /groups/{id}/members/{account}", s.groupMemberAction)
	s.handle("GET /groups/{id}/invites", s.groupInvitesPage)
	s.handle("POST /groups/{id}/invites", s.groupInviteCreatePage)
	s.handle("POST /groups/{id}/invites/{invite}/revoke", s.groupInviteRevokePage)
	s.handle("GET /groups/{id}/moderation", s.groupModerationPage)
	s.handle("POST /groups/{id}/reports/{report}/dismiss", s.groupReportDismissPage)
	s.handle("GET /join/{token}", s.joinPage)
	s.handle("POST /join/{token}", s.joinAccept)
}

// msgView is a message ready for the template.
type msgView struct {
	group.Message
	L        *msgLabels
	Mine     bool
	Time     string
	MapURL   string
	Reacts   []reactView
	CanEdit  bool
	SeenText string
	SeenN    int
	BodyHTML template.HTML // the text, escaped, with mentions marked
}

// msgLabels are the words and flags every message of a page shares.
type msgLabels struct {
	Mod, Edited, Hidden, Deleted, Photo, Location, Reply, More, Reason, Report, Edit, Delete, ConfirmDelete, React string
	Hide, Unhide, Pin, Unpin                                                                                       string
	Back                                                                                                           string
	Moderator, InThread                                                                                            bool
}

func newLabels(lang, back string, moderator, inThread bool) *msgLabels {
	t := func(k string) string { return translate(lang, "group."+k) }
	return &msgLabels{Mod: t("mod_tag"), Edited: t("edited"), Hidden: t("hidden"), Deleted: t("deleted"), Photo: t("photo"), Location: t("location"),
		Reply: t("reply"), More: t("more"), Reason: t("reason"), Report: t("report"), Edit: t("edit"), Delete: t("delete"), ConfirmDelete: t("confirm_delete"), React: t("react"),
		Hide: t("hide"), Unhide: t("unhide"), Pin: t("pin"), Unpin: t("unpin"), Back: back, Moderator: moderator, InThread: inThread}
}

type reactView struct {
	Emoji string
	N     int
	Mine  bool
}

func fmtTime(ms int64) string { return time.UnixMilli(ms).In(hcm).Format("02/01 15:04") }

func (s *Server) msgViews(p *account.Principal, msgs []group.Message, lang string, l *msgLabels) []msgView {
	out := make([]msgView, len(msgs))
	now := time.Now().UnixMilli()
	for i, m := range msgs {
		v := msgView{Message: m, L: l, Mine: m.AuthorID == p.AccountID, Time: fmtTime(m.CreatedAt)}
		v.CanEdit = v.Mine && !m.Deleted && now-m.CreatedAt < group.EditWindow.Milliseconds()
		if m.Lat != nil && m.Lon != nil {
			v.MapURL = fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f#map=18/%.6f/%.6f", *m.Lat, *m.Lon, *m.Lat, *m.Lon)
		}
		for _, e := range group.Reactions {
			rv := reactView{Emoji: e, N: m.Reactions[e]}
			for _, mine := range m.MyReactions {
				rv.Mine = rv.Mine || mine == e
			}
			v.Reacts = append(v.Reacts, rv)
		}
		if m.SeenBy != nil {
			v.SeenN = *m.SeenBy
			v.SeenText = fmt.Sprintf(translate(lang, "group.seen_by"), v.SeenN)
		}
		v.BodyHTML = bodyHTML(p, m)
		out[i] = v
	}
	return out
}

type groupsData struct {
	Groups  []group.Detail
	Units   []account.Grant // where p may create groups
	Orgs    []orgOption     // the organisations of those units
	Error   string
	Form    group.Input
	Query   string
	Results []msgView
}

func (s *Server) groupsPage(w http.ResponseWriter, r *http.Request) {
	s.showGroups(w, r, http.StatusOK, groupsData{})
}

func (s *Server) showGroups(w http.ResponseWriter, r *http.Request, code int, d groupsData) {
	p := principalOf(r)
	gs, err := s.groups.Mine(r.Context(), p)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Groups = gs
	seen := map[int64]bool{}
	for _, g := range p.Grants {
		if p.Can(account.ActManageGroups, g.UnitPath) && !seen[g.UnitID] {
			seen[g.UnitID] = true
			d.Units = append(d.Units, g)
			orgs, err := s.areas.ListOrganisations(r.Context(), g.UnitID)
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			for _, o := range orgs {
				d.Orgs = append(d.Orgs, orgOption{ID: o.ID, Label: o.Name + " (" + g.UnitName + ")"})
			}
		}
	}
	s.render(w, r, code, "group_list.html", translate(langOf(r), "group.my_groups"), d, flash(r))
}

type orgOption struct {
	ID    int64
	Label string
}

func (s *Server) groupCreatePage(w http.ResponseWriter, r *http.Request) {
	unitID, _ := strconv.ParseInt(r.PostFormValue("unit_id"), 10, 64)
	orgID, _ := strconv.ParseInt(r.PostFormValue("organisation_id"), 10, 64)
	in := group.Input{UnitID: unitID, OrganisationID: orgID, Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		JoinPolicy: group.JoinPolicy(r.PostFormValue("join_policy")), AnnounceOnly: r.PostFormValue("announce_only") != ""}
	g, err := s.groups.Create(r.Context(), principalOf(r), in)
	if formError(err) {
		s.showGroups(w, r, http.StatusBadRequest, groupsData{Error: message(r, err), Form: in})
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/groups/"+itoa(g.ID), http.StatusSeeOther)
}

func (s *Server) groupSearchPage(w http.ResponseWriter, r *http.Request) {
	p, q := principalOf(r), r.URL.Query().Get("q")
	gid, _ := strconv.ParseInt(r.URL.Query().Get("group"), 10, 64)
	d := groupsData{Query: q}
	if p == nil {
		s.pageError(w, r, apperr.ErrUnauthenticated)
		return
	}
	if q != "" {
		msgs, err := s.groups.Search(r.Context(), p, gid, q, 50)
		if formError(err) {
			d.Error = message(r, err)
		} else if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.Results = s.msgViews(p, msgs, langOf(r), newLabels(langOf(r), r.URL.RequestURI(), false, false))
	}
	s.render(w, r, http.StatusOK, "group_search.html", translate(langOf(r), "group.search"), d, "")
}

type chatData struct {
	G        group.Detail
	Msgs     []msgView
	Pinned   []msgView
	Root     *msgView // the thread's first message
	Thread   int64
	Older    int64 // ?before= for the older page; 0 on the first message
	LastID   int64
	Error    string
	Body     string
	Emojis   []string
	Policies []string
}

func (s *Server) groupChatPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	s.showChat(w, r, id, 0, before, http.StatusOK, chatData{})
}

func (s *Server) groupThreadPage(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "mid")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.showChat(w, r, ids[0], ids[1], 0, http.StatusOK, chatData{})
}

// showChat renders a group's timeline (thread 0) or one thread.
func (s *Server) showChat(w http.ResponseWriter, r *http.Request, id, thread, before int64, code int, d chatData) {
	ctx, p, lang := r.Context(), principalOf(r), langOf(r)
	det, err := s.groups.Get(ctx, p, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.G, d.Thread, d.Emojis = det, thread, group.Reactions
	if det.State != group.StateActive {
		s.render(w, r, http.StatusOK, "group_join.html", det.Name, joinData{G: det.Group, State: det.State}, flash(r))
		return
	}
	msgs, more, err := s.groups.List(ctx, p, id, group.ListFilter{Before: before, Thread: thread, Limit: 30})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	labels := newLabels(lang, r.URL.Path, det.CanModerate, thread != 0)
	d.Msgs = s.msgViews(p, msgs, lang, labels)
	if more && len(msgs) > 0 {
		d.Older = msgs[0].ID
	}
	if thread != 0 {
		root, _, err := s.groups.List(ctx, p, id, group.ListFilter{After: thread - 1, Limit: 1})
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if len(root) == 0 || root[0].ID != thread {
			s.pageError(w, r, apperr.NotFoundf("tin nhắn", "Message"))
			return
		}
		rv := s.msgViews(p, root, lang, labels)[0]
		d.Root = &rv
	} else if before == 0 {
		pins, err := s.groups.Pinned(ctx, p, id)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.Pinned = s.msgViews(p, pins, lang, labels)
	}
	if len(msgs) > 0 {
		d.LastID = msgs[len(msgs)-1].ID
	}
	if before == 0 && det.LastMessageID > det.LastReadID {
		// Opening the newest page reads the group.
		if err := s.groups.MarkRead(ctx, p, id, det.LastMessageID); err != nil {
			s.log(r).Warn("mark read", "err", err)
		}
	}
	s.render(w, r, code, "group_chat.html", det.Name, d, flash(r))
}

func (s *Server) groupPostPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	in, cleanup, err := parsePost(r)
	if err == nil {
		defer cleanup()
		_, err = s.groups.Post(r.Context(), principalOf(r), id, in)
	}
	if formError(err) || apperr.CodeOf(err) == apperr.Forbidden {
		s.showChat(w, r, id, in.ReplyTo, 0, status(apperr.CodeOf(err)), chatData{Error: message(r, err), Body: in.Body})
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	back := "/groups/" + itoa(id)
	if in.ReplyTo != 0 {
		back += "/messages/" + itoa(in.ReplyTo)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// groupMessageAction handles the buttons under a message: react, report,
// pin, unpin, hide, unhide, delete, edit.
func (s *Server) groupMessageAction(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "mid")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx, p, gid, mid := r.Context(), principalOf(r), ids[0], ids[1]
	msg := ""
	switch r.PathValue("action") {
	case "react":
		_, err = s.groups.React(ctx, p, gid, mid, r.PostFormValue("emoji"), r.PostFormValue("off") == "")
	case "report":
		err, msg = s.groups.ReportMessage(ctx, p, gid, mid, r.PostFormValue("reason")), "group_reported"
	case "pin", "unpin":
		err = s.groups.Pin(ctx, p, gid, mid, r.PathValue("action") == "pin")
	case "hide", "unhide":
		err, msg = s.groups.Hide(ctx, p, gid, mid, r.PathValue("action") == "hide"), "group_hidden"
	case "delete":
		err, msg = s.groups.Delete(ctx, p, gid, mid), "group_deleted"
	case "edit":
		_, err = s.groups.Edit(ctx, p, gid, mid, r.PostFormValue("body"))
	default:
		err = apperr.NotFoundf("trang", "Page")
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.back(w, r, "/groups/"+itoa(gid), msg)
}

// back redirects to the page the form was on (a same-site path in the
// form's "back" field), or def.
func (s *Server) back(w http.ResponseWriter, r *http.Request, def, msg string) {
	to := r.PostFormValue("back")
	if u, err := url.Parse(to); to == "" || err != nil || u.Host != "" || u.Scheme != "" || len(to) < 1 || to[0] != '/' || (len(to) > 1 && (to[1] == '/' || to[1] == '\\')) {
		to = def
	}
	if msg != "" {
		sep := "?"
		if u, _ := url.Parse(to); u != nil && u.RawQuery != "" {
			sep = "&"
		}
		to += sep + "msg=" + msg
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) groupJoinPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if _, err := s.groups.Join(r.Context(), principalOf(r), id); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/groups/"+itoa(id), http.StatusSeeOther)
}

func (s *Server) groupLeavePage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := s.groups.Leave(r.Context(), principalOf(r), id); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/groups?msg=group_left", http.StatusSeeOther)
}

// groupPhoto serves a group's photo to those who may see it; the name is
// the content's hash, so it may be cached privately for long.
func (s *Server) groupPhoto(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	name := r.PathValue("name")
	if err := s.groups.PhotoAllowed(r.Context(), principalOf(r), id, name); err != nil {
		s.pageError(w, r, err)
		return
	}
	store := s.groups.Media()
	if store == nil {
		s.pageError(w, r, apperr.NotFoundf("ảnh", "Photo"))
		return
	}
	f, err := store.Open(name)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, name, time.Time{}, f)
}
