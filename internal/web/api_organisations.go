package web

import (
	"net/http"
)

func (s *Server) apiOrganisationList(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	orgs, err := s.areas.ListOrganisations(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(orgs, ""))
}
