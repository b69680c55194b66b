package web

import (
	"net/http"
	"strconv"

	"github.com/trothu/trothu/internal/area"
)

func (s *Server) apiUnitRoot(w http.ResponseWriter, r *http.Request) {
	u, err := s.areas.Root(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiUnit(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	u, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// apiUnitChildren lists a unit's children, paged by ?after= (the last id of
// the previous page) over the order area.Children gives.
func (s *Server) apiUnitChildren(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	after, limit, err := apiAfterLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	historic := r.URL.Query().Get("historic")
	kids, err := s.areas.Children(r.Context(), id, historic == "1" || historic == "true")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items, next := pageAfter(kids, after, limit, func(u area.UnitSummary) int64 { return u.ID })
	writeJSON(w, http.StatusOK, apiListOf(items, next))
}

// pageAfter cuts a page out of a complete, ordered slice: the items after
// the one whose id is after (from the start when 0 or not found), at most
// limit (default 200).
func pageAfter[T any](all []T, after int64, limit int, id func(T) int64) ([]T, string) {
	if limit <= 0 {
		limit = 200
	}
	start := 0
	if after != 0 {
		for i, x := range all {
			if id(x) == after {
				start = i + 1
				break
			}
		}
	}
	rest := all[start:]
	if len(rest) <= limit {
		return rest, ""
	}
	return rest[:limit], strconv.FormatInt(id(rest[limit-1]), 10)
}

func (s *Server) apiUnitAncestors(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	u, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	us, err := s.areas.Ancestors(r.Context(), u)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(us, ""))
}

// apiUnitSearch returns the best matches only (?limit=, at most 100): a
// search box, not a listing.
func (s *Server) apiUnitSearch(w http.ResponseWriter, r *http.Request) {
	limit, err := apiQueryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	us, err := s.areas.Search(r.Context(), r.URL.Query().Get("q"), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(us, ""))
}

// apiUnitResolve maps a GSO code, old or current, to the units in force.
func (s *Server) apiUnitResolve(w http.ResponseWriter, r *http.Request) {
	us, err := s.areas.Resolve(r.Context(), r.URL.Query().Get("code"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(us, ""))
}

// unitPatch holds the fields of a local unit that may change; absent ones
// keep their value.
type unitPatch struct {
	Name   patchField[string] `json:"name"`
	Kind   patchField[string] `json:"kind"`
	NameEN patchField[string] `json:"name_en"`
}

func (s *Server) apiUnitRename(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var in unitPatch
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	cur, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	u, err := s.areas.RenameUnit(r.Context(), principalOf(r), id, area.UnitInput{
		Level: cur.Level, Name: in.Name.or(cur.Name), Kind: in.Kind.or(cur.Kind), NameEN: in.NameEN.or(cur.NameEN),
	})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}
