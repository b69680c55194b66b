package web

import (
	"net/http"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/group"
)

type settingsData struct {
	G     group.Detail
	Form  group.Input
	Error string
}

// groupSettingsPage shows a group's settings form to its moderators.
func (s *Server) groupSettingsPage(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	det, err := s.groups.Get(r.Context(), principalOf(r), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !det.CanModerate {
		s.pageError(w, r, apperr.ErrForbidden)
		return
	}
	in := group.Input{Name: det.Name, Description: det.Description, JoinPolicy: det.JoinPolicy, AnnounceOnly: det.AnnounceOnly}
	s.render(w, r, http.StatusOK, "group_settings.html", det.Name, settingsData{G: det, Form: in}, flash(r))
}

// groupSettingsSave changes the name, description, join policy and
// announce-only mode.
func (s *Server) groupSettingsSave(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx, p := r.Context(), principalOf(r)
	in := group.Input{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		JoinPolicy: group.JoinPolicy(r.PostFormValue("join_policy")), AnnounceOnly: r.PostFormValue("announce_only") != ""}
	_, err = s.groups.Update(ctx, p, id, in)
	if formError(err) {
		det, derr := s.groups.Get(ctx, p, id)
		if derr != nil {
			s.pageError(w, r, derr)
			return
		}
		s.render(w, r, http.StatusBadRequest, "group_settings.html", det.Name, settingsData{G: det, Form: in, Error: message(r, err)}, "")
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/groups/"+itoa(id)+"/settings?msg=saved", http.StatusSeeOther)
}
