package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/request"
)

type requestListData struct {
	Kind      string // "public", "mine", "queue"
	Page      request.Page
	Types     []request.Type
	Statuses  []request.Status
	Q         url.Values
	NextURL   string
	Stats     *request.Stats
	Units     []account.Grant
	CanExport bool
	ExportURL string
	Error     string
}

func (s *Server) requestListPage(w http.ResponseWriter, r *http.Request) {
	s.requestList(w, r, "public", s.requests.Public, "req.list_title")
}

func (s *Server) requestMinePage(w http.ResponseWriter, r *http.Request) {
	if principalOf(r) == nil {
		http.Redirect(w, r, "/signin?next=/requests/mine", http.StatusSeeOther)
		return
	}
	s.requestList(w, r, "mine", s.requests.Mine, "req.mine_title")
}

func (s *Server) requestQueuePage(w http.ResponseWriter, r *http.Request) {
	if principalOf(r) == nil {
		http.Redirect(w, r, "/signin?next=/requests/queue", http.StatusSeeOther)
		return
	}
	s.requestList(w, r, "queue", s.requests.Queue, "req.queue_title")
}

func (s *Server) requestList(w http.ResponseWriter, r *http.Request, kind string, list func(ctx context.Context, p *account.Principal, f request.Filter) (request.Page, error), title string) {
	f, err := requestFilter(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if f.Limit == 0 {
		f.Limit = 30
	}
	p := principalOf(r)
	page, err := list(r.Context(), p, f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ts, err := s.requests.Types(r.Context(), false)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := requestListData{Kind: kind, Page: page, Types: ts, Statuses: request.Statuses, Q: r.URL.Query()}
	if page.Next != "" {
		q := r.URL.Query()
		q.Set("after", page.Next)
		d.NextURL = r.URL.Path + "?" + q.Encode()
	}
	if kind == "public" && f.UnitID != 0 {
		st, err := s.requests.UnitStats(r.Context(), f.UnitID, time.Now().AddDate(-1, 0, 0))
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.Stats = &st
	}
	if kind == "queue" {
		for _, g := range p.Grants {
			if p.Can(account.ActHandleRequests, g.UnitPath) {
				d.Units = append(d.Units, g)
			}
		}
		d.CanExport = p.CanAnywhere(account.ActExportRequests)
		q := r.URL.Query()
		q.Del("after")
		d.ExportURL = "/api/v1/requests/queue/export?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "request_list.html", translate(langOf(r), title), d, flash(r))
}

func (s *Server) requestBulkAssign(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, err)
		return
	}
	ids := postedIDs(r)
	p := principalOf(r)
	assignee, _ := strconv.ParseInt(r.PostFormValue("assignee_id"), 10, 64)
	if assignee == 0 && p != nil {
		assignee = p.AccountID
	}
	if _, err := s.requests.BulkAssign(r.Context(), p, ids, assignee); err != nil {
		s.pageError(w, r, err)
		return
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/requests/queue") {
		back = "/requests/queue"
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+"msg=request_assigned", http.StatusSeeOther)
}

// postedIDs returns the form's "id" values that are numbers (the ticked
// rows of a list); others are ignored.
func postedIDs(r *http.Request) []int64 {
	var ids []int64
	for _, v := range r.PostForm["id"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}
