package web

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/realtime"
)

// TopicAuthorizer decides whether p may receive the events of the topic
// "kind:id"; it returns nil to allow, or an *apperr.Error (Forbidden,
// NotFound…) to refuse.
//
// Rooms register one per topic kind in their routes file, after
// realtimeRoutes has made the registry, for example in noticeRoutes:
//
//	s.topicAuth["notice"] = func(ctx context.Context, p *account.Principal, id string) error { … }
//
// A client then asks for the topic with GET /events?topic=notice:9 (the
// parameter may repeat). The signed-in account's own topic "account:{id}"
// and its groups ("group:{id}") need no asking.
type TopicAuthorizer func(ctx context.Context, p *account.Principal, id string) error

// maxExtraTopics bounds the ?topic= values of one stream.
const maxExtraTopics = 20

// events streams the signed-in user's events as server-sent events. It
// accepts the bearer token as well as the session cookie; it resumes after
// the Last-Event-ID header (or ?last_event_id=, for clients that cannot
// set headers) with no gap and no duplicate, or sends "reset" when it
// cannot, so the client reloads its state. A comment line every
// realtime.Heartbeat keeps proxies and phones from closing an idle stream.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.apiError(w, r, apperr.ErrUnauthenticated)
		return
	}
	if s.broker == nil {
		s.apiUnavailable(w, r, "Máy chủ chưa bật sự kiện thời gian thực.", "Realtime events are not enabled on this server.")
		return
	}
	topics, err := s.eventTopics(r, p)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	lastID := r.Header.Get("Last-Event-ID")
	if lastID == "" {
		lastID = r.URL.Query().Get("last_event_id")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	if r.ProtoMajor == 1 {
		// HTTP/1.1: take the connection over and stream without the
		// request's goroutine, its grown stack and its buffers; an idle
		// stream then costs a few kilobytes, and an event is one write of
		// a frame shared by every subscriber.
		if conn, _, err := rc.Hijack(); err == nil {
			s.streamTakenOver(conn, rawHead(h), topics, lastID)
			return
		}
	}
	sub, err := s.broker.Subscribe(topics, lastID)
	if err != nil {
		s.apiUnavailable(w, r, "Máy chủ đang tắt.", "The server is shutting down.")
		return
	}
	first := streamStart(sub, lastID, len(topics))
	defer sub.Close()
	// A stream outlives the server's read and write timeouts; writes get a
	// deadline of their own, so a stalled client cannot hold on.
	_ = rc.SetReadDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	dl := &deadline{set: rc.SetWriteDeadline}
	if !dl.renew() || !s.flushEvents(w, rc, first) {
		return
	}
	streamLoop(sub, r.Context().Done(), func(b []byte) bool { return dl.renew() && s.flushEvents(w, rc, b) })
}

// streamStart is what a stream sends first: the reconnection delay, then
// "ready" for a fresh stream or "reset" when a resume is impossible (the
// client reloads what it shows), then the missed events of a resume.
func streamStart(sub *realtime.Subscription, lastID string, topics int) []byte {
	first := []byte("retry: 3000\n\n")
	if lastID == "" || !sub.Resumed {
		name := "ready"
		if lastID != "" {
			name = "reset"
		}
		first = append(first, "id: "+sub.Start+"\nevent: "+name+"\ndata: {\"topics\":"+strconv.Itoa(topics)+"}\n\n"...)
	}
	for _, ev := range sub.Replay {
		first = append(first, ev.Frame...)
	}
	return first
}

// streamTakenOver streams to a connection taken over from the HTTP
// server: head first (the response head), then the stream. A socket is
// written by the broker's writers directly (sseConn), with a reading
// goroutine to see the client go; other connections (TLS) get a goroutine
// that writes what the subscription's channel brings.
func (s *Server) streamTakenOver(conn net.Conn, head []byte, topics []string, lastID string) {
	if k := newSSEConn(conn); k != nil {
		sub, err := s.broker.SubscribeSink(topics, lastID, k)
		if err != nil {
			conn.Close() // shutting down: the client reconnects elsewhere or later
			return
		}
		k.start(append(head, streamStart(sub, lastID, len(topics))...))
		go watchConn(conn, sub, k.Frames, k.close)
		return
	}
	sub, err := s.broker.Subscribe(topics, lastID)
	if err != nil {
		conn.Close()
		return
	}
	go streamConn(conn, sub, append(head, streamStart(sub, lastID, len(topics))...))
}

// rawHead is the HTTP/1.1 response head of a taken-over stream: 200, the
// headers set so far (security headers, request id…), and no length: the
// stream ends when the connection closes.
func rawHead(h http.Header) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\n")
	_ = h.Write(&b) // to memory: cannot fail
	b.WriteString("\r\n")
	return b.Bytes()
}

// streamConn writes head, then every event of sub, to a taken-over
// connection until the client goes, the subscriber is dropped (too slow) or
// the broker closes. The stream's goroutine waits on its queue alone (one
// channel receive per event, no select: that is most of the CPU an event
// costs beyond its write); watchConn handles heartbeats and departures.
func streamConn(c net.Conn, sub *realtime.Subscription, head []byte) {
	defer c.Close()
	defer sub.Close()
	dl := &deadline{set: c.SetWriteDeadline}
	if !dl.renew() {
		return
	}
	if _, err := c.Write(head); err != nil {
		return
	}
	go watchConn(c, sub, func(b []byte) {
		if c.SetWriteDeadline(time.Now().Add(writeGrace)) == nil {
			_, _ = c.Write(b) // a failed write ends the stream's read too
		}
	}, func() { c.Close() })
	var buf []byte
	for ev := range sub.C {
		out := ev.Frame // shared by every subscriber: written, never changed
		if len(sub.C) > 0 {
			// Send whatever else is queued in the same write.
			buf = append(buf[:0], ev.Frame...)
			for len(buf) < 32<<10 && len(sub.C) > 0 {
				if next := <-sub.C; next != nil {
					buf = append(buf, next.Frame...)
				}
			}
			out = buf
		}
		if !dl.renew() {
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// watchConn ends sub as soon as the client goes (a read that ends: a client
// sends nothing more on a stream) and, while it stays, sends a heartbeat
// through beat whenever realtime.Heartbeat passes without a read. beat
// writes whole frames, so a heartbeat never splits an event. It ends with
// closeConn.
func watchConn(c net.Conn, sub *realtime.Subscription, beat func([]byte), closeConn func()) {
	defer closeConn()
	defer sub.Close()
	var b [1]byte
	for {
		if c.SetReadDeadline(time.Now().Add(realtime.Heartbeat)) != nil {
			return
		}
		_, err := c.Read(b[:])
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return
		}
		beat(heartbeat)
	}
}

// streamLoop sends sub's events, and a heartbeat when idle, through write
// until write fails, gone closes, or the subscription ends.
func streamLoop(sub *realtime.Subscription, gone <-chan struct{}, write func([]byte) bool) {
	beat := time.NewTicker(realtime.Heartbeat)
	defer beat.Stop()
	var buf []byte
	for {
		var out []byte
		select {
		case ev, ok := <-sub.C:
			if !ok {
				return // dropped as too slow, or the server is stopping: the client reconnects
			}
			out = ev.Frame // shared by every subscriber: written, never changed
			if len(sub.C) > 0 {
				// Send whatever else is queued in the same write.
				buf = append(buf[:0], ev.Frame...)
				for len(buf) < 32<<10 && len(sub.C) > 0 {
					buf = append(buf, (<-sub.C).Frame...)
				}
				out = buf
			}
		case <-beat.C:
			out = heartbeat
		case <-sub.Done():
			return // dropped as too slow, or the server is stopping: the client reconnects
		case <-gone:
			return
		}
		if !write(out) {
			return
		}
	}
}

// deadline keeps a stream's write deadline ahead of now.
type deadline struct {
	set  func(time.Time) error
	last time.Time
}

func (d *deadline) renew() bool {
	now := time.Now()
	if now.Sub(d.last) < writeGrace/3 {
		return true
	}
	d.last = now
	return d.set(now.Add(writeGrace)) == nil
}

var heartbeat = []byte(": hb\n\n")

// writeGrace is how long a client may take to accept what is written to
// it; the deadline is renewed at most every writeGrace/3, so a stalled
// client is cut off within writeGrace without a timer update per event.
const writeGrace = 15 * time.Second

// flushEvents writes b and flushes it; false means the client is gone or
// too slow.
func (s *Server) flushEvents(w http.ResponseWriter, rc *http.ResponseController, b []byte) bool {
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}

// eventTopics returns the topics of p's stream: p's account, p's groups,
// and every ?topic= its room's authorizer allows.
func (s *Server) eventTopics(r *http.Request, p *account.Principal) ([]string, error) {
	topics := []string{"account:" + strconv.FormatInt(p.AccountID, 10)}
	if s.groups != nil {
		gt, err := s.groups.Topics(r.Context(), p)
		if err != nil {
			return nil, err
		}
		topics = append(topics, gt...)
	}
	extra := r.URL.Query()["topic"]
	if len(extra) > maxExtraTopics {
		return nil, apperr.InvalidField("topic", "Quá nhiều chủ đề trong một kết nối.", "Too many topics for one stream.")
	}
	for _, t := range extra {
		kind, id, ok := strings.Cut(t, ":")
		auth := s.topicAuth[kind]
		if !ok || id == "" || auth == nil {
			return nil, apperr.InvalidField("topic", "Chủ đề không hợp lệ: "+t, "Unknown topic: "+t)
		}
		if err := auth(r.Context(), p, id); err != nil {
			return nil, err
		}
		topics = append(topics, t)
	}
	return topics, nil
}
