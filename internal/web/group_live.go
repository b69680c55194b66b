package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/group"
)

// groupFragment renders messages as the chat page's own list items, for
// group.js to place what arrives over /events with the one template the
// page uses: ?mid= one message (a new, edited, unhidden or hidden one), or
// ?after= the messages after an id (catching up after a reset). ?thread=
// renders them for a thread's page.
func (s *Server) groupFragment(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ctx, p, lang, q := r.Context(), principalOf(r), langOf(r), r.URL.Query()
	mid, _ := strconv.ParseInt(q.Get("mid"), 10, 64)
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	thread, _ := strconv.ParseInt(q.Get("thread"), 10, 64)
	det, err := s.groups.Get(ctx, p, id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var msgs []group.Message
	if mid != 0 {
		m, err := s.groups.Message(ctx, p, id, mid)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		msgs = []group.Message{m}
	} else if msgs, _, err = s.groups.List(ctx, p, id, group.ListFilter{After: after, Thread: thread, Limit: group.MaxPageSize}); err != nil {
		s.apiError(w, r, err)
		return
	}
	back := "/groups/" + itoa(id)
	if thread != 0 {
		back += "/messages/" + itoa(thread)
	}
	views := s.msgViews(p, msgs, lang, newLabels(lang, back, det.CanModerate, thread != 0))
	var buf bytes.Buffer
	for _, v := range views {
		if err := s.pages["group_chat.html"].ExecuteTemplate(&buf, "msg", v); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// bodyHTML escapes a message's text and marks the names it mentions; the
// viewer's own name gets the "me" class.
func bodyHTML(p *account.Principal, m group.Message) template.HTML {
	spans := group.MentionSpans(m.Body, m.Mentions)
	if len(spans) == 0 {
		return template.HTML(template.HTMLEscapeString(m.Body))
	}
	mine := group.MentionSpans(m.Body, mentionsOf(m.Mentions, p.AccountID))
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(template.HTMLEscapeString(m.Body[last:sp[0]]))
		cls := "mention"
		for _, ms := range mine {
			if ms == sp {
				cls += " me"
			}
		}
		b.WriteString(`<mark class="` + cls + `">` + template.HTMLEscapeString(m.Body[sp[0]:sp[1]]) + `</mark>`)
		last = sp[1]
	}
	b.WriteString(template.HTMLEscapeString(m.Body[last:]))
	return template.HTML(b.String())
}

func mentionsOf(ms []group.Mention, accountID int64) []group.Mention {
	for _, m := range ms {
		if m.AccountID == accountID {
			return []group.Mention{m}
		}
	}
	return nil
}
