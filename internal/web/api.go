package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/apperr"
)

// apiRoutesV1 registers the JSON API. Every route here is described in
// openapi.json; a test keeps the two in step. Handlers live in api_*.go,
// one file per capability; each parses, calls a room's service (which checks
// permission) and answers with writeJSON or s.apiError.
func (s *Server) apiRoutesV1() {
	s.api("GET", "/openapi.json", s.apiOpenAPI)

	s.api("POST", "/auth/otp", s.apiRequestOTP)
	s.api("POST", "/auth/verify", s.apiVerifyOTP)
	s.api("POST", "/auth/password", s.apiSignInPassword)
	s.api("POST", "/auth/signout", s.apiSignOut)
	s.api("GET", "/me", s.apiMe)
	s.api("GET", "/me/household", s.apiMyHousehold)
	s.api("POST", "/me/password", s.apiSetMyPassword)
	s.api("POST", "/me/totp", s.apiEnrollTOTP)
	s.api("POST", "/me/totp/confirm", s.apiConfirmTOTP)
	s.api("GET", "/demo/accounts", s.apiDemoAccounts)

	s.api("GET", "/areas/locate", s.apiLocate)
	s.api("GET", "/units/root", s.apiUnitRoot)
	s.api("GET", "/units/search", s.apiUnitSearch)
	s.api("GET", "/units/resolve", s.apiUnitResolve) // ?code=: /units/resolve/{code} would clash with /units/{id}/children
	s.api("GET", "/units/{id}", s.apiUnit)
	s.api("GET", "/units/{id}/children", s.apiUnitChildren)
	s.api("GET", "/units/{id}/ancestors", s.apiUnitAncestors)
	s.api("POST", "/units/{id}/children", apiWithBody(s, http.StatusCreated, s.areas.CreateUnit))
	s.api("PATCH", "/units/{id}", s.apiUnitRename)
	s.api("DELETE", "/units/{id}", apiByIDNoContent(s, s.areas.DeleteUnit))

	s.api("GET", "/units/{id}/households", s.apiHouseholdList)
	s.api("POST", "/units/{id}/households/import", s.apiHouseholdImport)
	s.api("GET", "/units/{id}/households/export", s.apiHouseholdExport)
	s.api("POST", "/households", apiCreate(s, s.areas.CreateHousehold))
	s.api("GET", "/households/{id}", apiByID(s, s.areas.Household))
	s.api("PATCH", "/households/{id}", s.apiHouseholdUpdate)
	s.api("DELETE", "/households/{id}", apiByIDNoContent(s, s.areas.DeleteHousehold))
	s.api("POST", "/households/{id}/move", s.apiHouseholdMove)
	s.api("POST", "/households/{id}/residents", apiWithBody(s, http.StatusCreated, s.areas.AddResident))
	// PATCH replaces the resident: an empty citizen_id keeps the stored number, clear_citizen_id removes it.
	s.api("PATCH", "/residents/{id}", apiWithBody(s, http.StatusOK, s.areas.UpdateResident))
	s.api("DELETE", "/residents/{id}", apiByIDNoContent(s, s.areas.DeleteResident))
	s.api("GET", "/residents/{id}/citizen-id", s.apiRevealCitizenID)

	s.api("GET", "/units/{id}/organisations", s.apiOrganisationList)
	s.api("POST", "/organisations", apiCreate(s, s.areas.CreateOrganisation))

	s.api("GET", "/accounts", s.apiAccountList)
	s.api("POST", "/accounts", s.apiAccountCreate)
	s.api("GET", "/accounts/{id}/grants", s.apiGrantList)
	s.api("POST", "/accounts/{id}/grants", s.apiGrantCreate)
	s.api("DELETE", "/grants/{id}", apiByIDNoContent(s, s.accounts.RevokeRole))

	s.api("GET", "/audit", s.apiAuditList)

	// Anything else under /api/v1 answers with the error contract too, not
	// the mux's plain-text 404.
	s.handle("/api/v1/", s.apiNotFound)
}

//go:embed openapi
var openAPIFS embed.FS

// openAPIDocument merges openapi/core.json with every other fragment in
// openapi/ (one per room: its "paths" and "components.schemas"), so rooms
// document their routes in their own file. A duplicate path or schema name
// is an error.
func openAPIDocument() ([]byte, error) {
	core, err := openAPIFS.ReadFile("openapi/core.json")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(core, &doc); err != nil {
		return nil, fmt.Errorf("openapi/core.json: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if paths == nil || schemas == nil {
		return nil, errors.New("openapi/core.json: paths and components.schemas are required")
	}
	names, err := fs.Glob(openAPIFS, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == "openapi/core.json" {
			continue
		}
		b, err := openAPIFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var frag struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		for k, v := range frag.Paths {
			if _, dup := paths[k]; dup {
				return nil, fmt.Errorf("%s: path %s is already documented", n, k)
			}
			paths[k] = v
		}
		for k, v := range frag.Components.Schemas {
			if _, dup := schemas[k]; dup {
				return nil, fmt.Errorf("%s: schema %s is already defined", n, k)
			}
			schemas[k] = v
		}
	}
	return json.Marshal(doc)
}

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.openAPI)
}

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.apiError(w, r, apperr.New(apperr.NotFound, "Không có địa chỉ API này.", "No such API endpoint."))
}

// apiUnavailable answers 503 with the error contract: a part of the
// deployment is missing, which no request can fix.
func (s *Server) apiUnavailable(w http.ResponseWriter, r *http.Request, vi, en string) {
	s.apiError(w, r, apperr.New(apperr.Unavailable, vi, en))
}

// apiList is the shape of every list the API returns. Next, when present, is
// the cursor to pass as ?after= (or ?before= for the audit log) for the
// following page; it is absent on the last page.
type apiList[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func apiListOf[T any](items []T, next string) apiList[T] {
	if items == nil {
		items = []T{}
	}
	return apiList[T]{Items: items, Next: next}
}

// apiPathID parses a numeric path value; anything else names nothing.
func apiPathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "Không tìm thấy.", "Not found.")
	}
	return id, nil
}

// apiQueryInt reads an optional integer query parameter; absent is 0.
func apiQueryInt(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, apperr.InvalidField(name, "Tham số "+name+" phải là số nguyên không âm.", "The parameter "+name+" must be a non-negative integer.")
	}
	return n, nil
}

// apiQueryLimit reads ?limit=; 0 lets the service pick its default.
func apiQueryLimit(r *http.Request) (int, error) {
	n, err := apiQueryInt(r, "limit")
	if err != nil {
		return 0, err
	}
	if n > 1000 {
		n = 1000 // the services clamp further
	}
	return int(n), nil
}

// apiAfterLimit reads the ?after= id cursor and ?limit= of a paged list.
func apiAfterLimit(r *http.Request) (after int64, limit int, err error) {
	if after, err = apiQueryInt(r, "after"); err != nil {
		return 0, 0, err
	}
	limit, err = apiQueryLimit(r)
	return after, limit, err
}

// patchField is a field of a PATCH body: Set tells whether it was sent at all,
// Value is nil when it was sent as null.
type patchField[T any] struct {
	Set   bool
	Value *T
}

func (o *patchField[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}

// or returns the value sent: def when the field was absent, the zero value
// when it was null.
func (o patchField[T]) or(def T) T {
	if o.Value != nil {
		return *o.Value
	}
	if o.Set {
		var zero T
		return zero
	}
	return def
}
