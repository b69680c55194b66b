package web

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/group"
	"github.com/trothu/trothu/internal/media"
)

// groupAPIRoutes registers the JSON API of the group room. Handlers parse,
// call the group service (which checks permission) and answer.
func (s *Server) groupAPIRoutes() {
	s.api("GET", "/groups", s.apiGroupsMine)
	s.api("POST", "/groups", s.apiGroupCreate)
	s.api("GET", "/groups/search", s.apiGroupsSearch)
	s.api("GET", "/units/{id}/groups", s.apiUnitGroups)
	s.api("GET", "/groups/{id}", apiByID(s, s.groups.Get))
	s.api("PATCH", "/groups/{id}", apiWithBody(s, http.StatusOK, s.groups.Update))
	s.api("POST", "/groups/{id}/join", apiByID(s, s.groups.Join))
	s.api("POST", "/groups/{id}/leave", apiByIDNoContent(s, s.groups.Leave))
	s.api("GET", "/groups/{id}/messages", s.apiGroupMessages)
	s.api("POST", "/groups/{id}/messages", s.apiGroupPost)
	s.api("PATCH", "/groups/{id}/messages/{mid}", s.apiGroupEdit)
	s.api("DELETE", "/groups/{id}/messages/{mid}", s.apiGroupDelete)
	s.api("GET", "/groups/{id}/messages/{mid}/history", s.apiGroupHistory)
	s.api("POST", "/groups/{id}/messages/{mid}/reactions", s.apiGroupReact)
	s.api("POST", "/groups/{id}/messages/{mid}/pin", s.apiGroupPin)
	s.api("POST", "/groups/{id}/messages/{mid}/hide", s.apiGroupHide)
	s.api("POST", "/groups/{id}/messages/{mid}/report", s.apiGroupReport)
	s.api("GET", "/groups/{id}/pinned", apiBoundedList(s, s.groups.Pinned)) // at most 20 pins
	s.api("POST", "/groups/{id}/read", s.apiGroupRead)
	s.api("GET", "/groups/{id}/search", s.apiGroupSearch)
	s.api("GET", "/groups/{id}/members", s.apiGroupMembers)
	s.api("GET", "/groups/{id}/mentions", apiListQuery(s, "q", s.groups.MentionSuggestions)) // at most 8
	s.api("POST", "/groups/{id}/members/{account}", s.apiGroupModerateMember)
	s.api("GET", "/groups/{id}/invites", apiBoundedList(s, s.groups.Invites)) // the 50 newest
	s.api("POST", "/groups/{id}/invites", s.apiGroupInviteCreate)
	s.api("DELETE", "/groups/{id}/invites/{invite}", s.apiGroupInviteRevoke)
	s.api("GET", "/groups/{id}/reports", s.apiGroupReports)
	s.api("POST", "/groups/{id}/reports/{report}/dismiss", s.apiGroupReportDismiss)
	s.api("GET", "/group-invites/{token}", s.apiInviteShow)
	s.api("POST", "/group-invites/{token}/accept", s.apiInviteAccept)
}

// groupIDs parses {id} and, when named, {mid}.
func groupIDs(r *http.Request, names ...string) ([]int64, error) {
	out := make([]int64, 0, len(names))
	for _, n := range names {
		id, err := apiPathID(r, n)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

func (s *Server) apiGroupsMine(w http.ResponseWriter, r *http.Request) {
	gs, err := s.groups.Mine(r.Context(), principalOf(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(gs, "")) // bounded: at most 500 memberships
}

func (s *Server) apiGroupCreate(w http.ResponseWriter, r *http.Request) {
	var in group.Input
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	g, err := s.groups.Create(r.Context(), principalOf(r), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, g)
}

func (s *Server) apiUnitGroups(w http.ResponseWriter, r *http.Request) {
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
	limit = group.PageLimit(limit)
	gs, err := s.groups.InUnit(r.Context(), principalOf(r), id, after, limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	next := ""
	if len(gs) == limit {
		next = itoa(gs[len(gs)-1].ID)
	}
	writeJSON(w, http.StatusOK, apiListOf(gs, next))
}

// apiGroupMessages pages through messages: ?before=ID for older, ?after=ID
// for newer, ?thread=ID for a message's replies. next is the cursor for
// ?before= (or ?after= when paging forward).
func (s *Server) apiGroupMessages(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var f group.ListFilter
	for name, dst := range map[string]*int64{"before": &f.Before, "after": &f.After, "thread": &f.Thread} {
		if *dst, err = apiQueryInt(r, name); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	if f.Limit, err = apiQueryLimit(r); err != nil {
		s.apiError(w, r, err)
		return
	}
	msgs, more, err := s.groups.List(r.Context(), principalOf(r), ids[0], f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	next := ""
	if more && len(msgs) > 0 {
		if f.After > 0 {
			next = itoa(msgs[len(msgs)-1].ID)
		} else {
			next = itoa(msgs[0].ID)
		}
	}
	writeJSON(w, http.StatusOK, apiListOf(msgs, next))
}

type postBody struct {
	Body     string   `json:"body"`
	ReplyTo  int64    `json:"reply_to"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Mentions []int64  `json:"mentions"`
}

// apiGroupPost adds a message: a JSON body, or multipart/form-data with the
// fields body, reply_to, lat, lon and a file field photo.
func (s *Server) apiGroupPost(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	in, cleanup, err := parsePost(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	defer cleanup()
	m, err := s.groups.Post(r.Context(), principalOf(r), ids[0], in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

// parsePost reads a message from JSON or a multipart form (pages and API
// alike); cleanup closes the photo.
func parsePost(r *http.Request) (group.PostInput, func(), error) {
	nop := func() {}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		var b postBody
		if err := decodeJSON(r, &b); err != nil {
			return group.PostInput{}, nop, err
		}
		return group.PostInput{Body: b.Body, ReplyTo: b.ReplyTo, Lat: b.Lat, Lon: b.Lon, Mentions: b.Mentions}, nop, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, media.MaxBytes+1<<20)
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return group.PostInput{}, nop, apperr.InvalidField("photo", "Ảnh quá lớn (tối đa 10 MB).", "The photo is too large (10 MB at most).")
		}
		return group.PostInput{}, nop, apperr.Wrap(err, apperr.Invalid, "Biểu mẫu gửi lên không hợp lệ.", "Malformed form.")
	}
	in := group.PostInput{Body: r.PostFormValue("body")}
	var err error
	if v := r.PostFormValue("reply_to"); v != "" {
		if in.ReplyTo, err = strconv.ParseInt(v, 10, 64); err != nil {
			return in, nop, apperr.InvalidField("reply_to", "Tin nhắn được trả lời không hợp lệ.", "Invalid reply_to.")
		}
	}
	if lat, lon := r.PostFormValue("lat"), r.PostFormValue("lon"); lat != "" && lon != "" && r.PostFormValue("share_location") != "0" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		if err1 != nil || err2 != nil {
			return in, nop, apperr.InvalidField("lat", "Vị trí không hợp lệ.", "Invalid location.")
		}
		in.Lat, in.Lon = &la, &lo
	}
	f, _, err := r.FormFile("photo")
	switch {
	case errors.Is(err, http.ErrMissingFile):
		return in, nop, nil
	case err != nil:
		return in, nop, apperr.Wrap(err, apperr.Invalid, "Không đọc được ảnh.", "The photo could not be read.")
	}
	if isEmptyFile(f) {
		f.Close()
		return in, nop, nil
	}
	in.Photo = f
	return in, func() { f.Close() }, nil
}

// isEmptyFile reports whether the form's file field was left empty (a
// browser sends an empty part when no file was chosen).
func isEmptyFile(f multipart.File) bool {
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil || n == 0 {
		return true
	}
	_, err = f.Seek(0, io.SeekStart)
	return err != nil
}

func (s *Server) apiGroupEdit(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "mid")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	m, err := s.groups.Edit(r.Context(), principalOf(r), ids[0], ids[1], b.Body)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiGroupDelete(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "mid")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.groups.Delete(r.Context(), principalOf(r), ids[0], ids[1]); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiGroupHistory(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "mid")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	h, err := s.groups.History(r.Context(), principalOf(r), ids[0], ids[1])
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(h, "")) // bounded: 100 edits
}

type onBody struct {
	On    *bool  `json:"on"`
	Emoji string `json:"emoji,omitempty"`
}

func (b onBody) on() bool { return b.On == nil || *b.On }

func (s *Server) apiGroupReact(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "mid")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b onBody
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	counts, err := s.groups.React(r.Context(), principalOf(r), ids[0], ids[1], b.Emoji, b.on())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reactions": counts})
}

func (s *Server) apiGroupFlag(w http.ResponseWriter, r *http.Request, hide bool) {
	ids, err := groupIDs(r, "id", "mid")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b onBody
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	if hide {
		err = s.groups.Hide(r.Context(), principalOf(r), ids[0], ids[1], b.on())
	} else {
		err = s.groups.Pin(r.Context(), principalOf(r), ids[0], ids[1], b.on())
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiGroupPin(w http.ResponseWriter, r *http.Request)  { s.apiGroupFlag(w, r, false) }
func (s *Server) apiGroupHide(w http.ResponseWriter, r *http.Request) { s.apiGroupFlag(w, r, true) }

func (s *Server) apiGroupReport(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id", "mid")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.groups.ReportMessage(r.Context(), principalOf(r), ids[0], ids[1], b.Reason); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiGroupRead(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		LastReadID int64 `json:"last_read_id"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.groups.MarkRead(r.Context(), principalOf(r), ids[0], b.LastReadID); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiGroupSearch(w http.ResponseWriter, r *http.Request) {
	ids, err := groupIDs(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.apiSearch(w, r, ids[0])
}

func (s *Server) apiGroupsSearch(w http.ResponseWriter, r *http.Request) { s.apiSearch(w, r, 0) }

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request, gid int64) {
	limit, err := apiQueryLimit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	msgs, err := s.groups.Search(r.Context(), principalOf(r), gid, r.URL.Query().Get("q"), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiListOf(msgs, "")) // bounded by limit and the last year
}
