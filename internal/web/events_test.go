package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/group"
)

// sseEvent is one server-sent event as a client parses it.
type sseEvent struct {
	ID, Name string
	Topic    string
	Data     json.RawMessage
}

// stream is an open GET /events.
type stream struct {
	res    *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

// openEvents opens /events with token (bearer), resuming after lastID when
// set. It fails the test unless the status is want; it returns nil then.
func (e *env) openEvents(t *testing.T, token, lastID, query string, want int) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/events"+query, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /events: %v", err)
	}
	if res.StatusCode != want {
		res.Body.Close()
		cancel()
		t.Fatalf("GET /events%s: got %d, want %d", query, res.StatusCode, want)
	}
	if want != http.StatusOK {
		res.Body.Close()
		cancel()
		return nil
	}
	s := &stream{res: res, events: make(chan sseEvent, 100), cancel: cancel}
	t.Cleanup(s.close)
	go func() {
		defer close(s.events)
		br := bufio.NewReader(res.Body)
		var ev sseEvent
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if ev.Name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[7:]
			case strings.HasPrefix(line, "data: "):
				var env struct {
					Topic string          `json:"topic"`
					Data  json.RawMessage `json:"data"`
				}
				if json.Unmarshal([]byte(line[6:]), &env) == nil {
					ev.Topic, ev.Data = env.Topic, env.Data
				}
			}
		}
	}()
	return s
}

func (s *stream) close() { s.cancel(); s.res.Body.Close() }

// next returns the next event whose name is one of names (others are
// skipped), failing after 5 s.
func (s *stream) next(t *testing.T, names ...string) sseEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream closed while waiting for %v", names)
			}
			for _, n := range names {
				if ev.Name == n {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no %v event within 5 s", names)
		}
	}
}

// none fails if an event named name arrives within d.
func (s *stream) none(t *testing.T, d time.Duration, name string) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if ok && ev.Name == name {
				t.Fatalf("got an unexpected %s event: %s", name, ev.Data)
			}
			if !ok {
				return
			}
		case <-timeout:
			return
		}
	}
}

// newTo1Group makes an automatic group on Khu phố 1 › Tổ 1 as the
// administrator: the demo resident 0900000010 and the tổ's head are in it.
func (e *env) newTo1Group(t *testing.T, in group.Input) int64 {
	t.Helper()
	fx := e.fixture(t)
	in.UnitID = fx.hhUnit[pTo1]
	if in.Name == "" {
		in.Name = fmt.Sprintf("Tổ 1 thử %d", e.next())
	}
	g, err := e.app.Groups.Create(context.Background(), fx.admin, in)
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	return g.ID
}

func bodyOf(t *testing.T, ev sseEvent) string {
	t.Helper()
	var m struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		t.Fatalf("event data %s: %v", ev.Data, err)
	}
	return m.Body
}

func TestEventsDeliverAndResumeWithoutGapOrDuplicate(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		gid := e.newTo1Group(t, group.Input{})
		resident, head := e.token(t, phoneResident), e.token(t, phoneGroupHead)
		e.must(t, http.StatusOK, "GET", "/groups", resident, nil) // joins the tổ's groups
		s := e.openEvents(t, resident, "", "", http.StatusOK)
		ready := s.next(t, "ready")
		if ready.ID == "" {
			t.Fatal("ready event: got no id, want a resume point")
		}
		post := func(body string) {
			e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/groups/%d/messages", gid), head, map[string]any{"body": body})
		}
		post("Một")
		ev := s.next(t, "message")
		if ev.Topic != fmt.Sprintf("group:%d", gid) || bodyOf(t, ev) != "Một" {
			t.Fatalf("first event: got %s %s, want the message on the group's topic", ev.Topic, ev.Data)
		}
		s.close() // the network drops
		post("Hai")
		post("Ba")
		s2 := e.openEvents(t, resident, ev.ID, "", http.StatusOK)
		post("Bốn")
		var got []string
		for range 3 {
			got = append(got, bodyOf(t, s2.next(t, "message", "reset")))
		}
		if strings.Join(got, ",") != "Hai,Ba,Bốn" {
			t.Fatalf("after reconnecting: got %v, want Hai, Ba, Bốn once each", got)
		}
		s2.none(t, 300*time.Millisecond, "message")

		// An id the server cannot resume from asks the client to reload.
		s3 := e.openEvents(t, resident, "someone-else-7", "", http.StatusOK)
		s3.next(t, "reset")
	})
}

func TestEventsRefuseWhatTheUserMayNotSee(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		gid := e.newTo1Group(t, group.Input{})
		e.openEvents(t, "", "", "", http.StatusUnauthorized)
		outsider := e.token(t, phoneResidentOther)
		e.openEvents(t, outsider, "", fmt.Sprintf("?topic=group:%d", gid), http.StatusForbidden)
		e.openEvents(t, outsider, "", "?topic=nothing:1", http.StatusBadRequest)
		// An official over the tổ may watch its group without being a member.
		s := e.openEvents(t, e.token(t, phonePolice), "", fmt.Sprintf("?topic=group:%d", gid), http.StatusOK)
		e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/groups/%d/messages", gid), e.token(t, phoneGroupHead), map[string]any{"body": "Tuần tra tối nay"})
		if got := bodyOf(t, s.next(t, "message")); got != "Tuần tra tối nay" {
			t.Fatalf("police watching: got %q", got)
		}
	})
}

// TestEventsStreamEndsWhenClientGoes: the server lets go of a stream as soon
// as its client closes the connection, not at the next heartbeat.
func TestEventsStreamEndsWhenClientGoes(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		// Streams of earlier tests end first (the server sees them go); no
		// room holds a subscription of its own.
		wantSubscribers(t, e, 0)
		before := int64(0)
		s := e.openEvents(t, e.token(t, phoneResident), "", "", http.StatusOK)
		s.next(t, "ready")
		if got := e.app.Broker.Stats().Subscribers; got != before+1 {
			t.Fatalf("subscribers with the stream open: got %d, want %d", got, before+1)
		}
		s.close()
		wantSubscribers(t, e, before)
	})
}

// wantSubscribers waits (up to 10 s) for the broker to count want
// subscribers.
func wantSubscribers(t *testing.T, e *env, want int64) {
	t.Helper()
	got := int64(-1)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = e.app.Broker.Stats().Subscribers; got == want {
			return
		}
	}
	t.Fatalf("broker's subscribers: got %d, want %d", got, want)
}
