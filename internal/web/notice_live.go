package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/notice"
)

// livePollSeconds is how often a live page part reloads when it has no
// event stream (no EventSource, or the stream is down): events do the work,
// this only bounds how stale a page without them gets.
const livePollSeconds = 30

// liveFields are what a page part kept fresh over /events carries to
// trothuLive (static/app.js): where to reload it from, the topics whose
// events make it reload, and the newest event when the page was rendered,
// so the stream starts from there and nothing sent in between is missed.
type liveFields struct {
	LiveURL     string
	Topics      []string
	LastEvent   string
	PollSeconds int
}

func (s *Server) liveFields(url string, topics ...string) liveFields {
	f := liveFields{LiveURL: url, Topics: topics, PollSeconds: livePollSeconds}
	if s.broker != nil {
		f.LastEvent = s.broker.LastID()
	}
	return f
}

// noticeTopics lets announcement pages listen on the room's topics (see
// internal/notice/live.go): a notice's reach ("notice:{id}", for whoever
// may see part of it), and a resident's inbox ("inbox:{unit}" for the
// units above the household, "household:{id}" for the household itself).
func (s *Server) noticeTopics() {
	s.topicAuth["notice"] = func(ctx context.Context, p *account.Principal, id string) error {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return apperr.NotFoundf("thông báo", "Announcement")
		}
		return s.notices.CanWatchReach(ctx, p, n)
	}
	inbox := func(kind string) TopicAuthorizer {
		return func(ctx context.Context, p *account.Principal, id string) error {
			return s.notices.CanWatchInbox(ctx, p, kind+":"+id)
		}
	}
	s.topicAuth["inbox"] = inbox("inbox")
	s.topicAuth["household"] = inbox("household")
}

// renderPart writes one block of a page's template (a part that
// trothuLive reloads), without the layout.
func (s *Server) renderPart(w http.ResponseWriter, r *http.Request, page, block string, data any) {
	t, ok := s.pages[page]
	if !ok {
		s.pageError(w, r, apperr.New(apperr.Internal, "Thiếu mẫu trang.", "Missing template."))
		return
	}
	v := view{Lang: langOf(r), P: principalOf(r), Path: r.URL.Path, Data: data, Demo: s.cfg.Demo, assets: s.assets}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		s.log(r).Error("render", "template", page, "block", block, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// unread counts the items of an inbox page nobody in the household has
// opened yet.
func unread(items []notice.InboxItem) int {
	n := 0
	for _, it := range items {
		if it.SeenAt == nil {
			n++
		}
	}
	return n
}
