package web

import (
	"net/http"

	"github.com/trothu/trothu/internal/area"
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

func (s *Server) apiOrganisationCreate(w http.ResponseWriter, r *http.Request) {
	var in area.OrganisationInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	o, err := s.areas.CreateOrganisation(r.Context(), principalOf(r), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, o)
}
