package notice

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/db"
)

// The room's realtime events. They carry ids only, never a title: an inbox
// topic reaches every open inbox of a subtree, households a narrowed notice
// did not target included, and the page asks the server for what its
// reader may see.
//
//	inbox:{unitID}   "notice"  a notice went out to the unit's subtree
//	household:{id}   "notice"  a notice went out to the household, or its copy changed (acknowledged)
//	notice:{id}      "reach"   the notice's reach figures changed
//
// Sending a notice is one event whatever its size (on the unit's topic),
// not one per recipient: a province-wide notice would otherwise push a
// million events through the broker's resume ring and across instances.
// The event asks the inboxes to spread their reloads (spreadMillis).
// Reach events are coalesced per notice: at most one per reachEvery, the
// last change always followed by one, so ten thousand acknowledgements a
// second are a handful of refreshes for an open reach page.

// reachEvery is the shortest gap between two reach events of one notice.
const reachEvery = time.Second

// narrowFanout is the largest narrowed notice (flags or organisation)
// announced on its households' own topics; a larger one goes to the unit's
// topic, and the inboxes it did not target reload for nothing.
const narrowFanout = 200

// InboxTopics returns the realtime topics an inbox of the household at
// path (a unit path, "/1/2/…/") listens to: each unit from the country
// down to its tổ, and the household itself.
func InboxTopics(path string, householdID int64) []string {
	var out []string
	for _, id := range strings.Split(strings.Trim(path, "/"), "/") {
		if id != "" {
			out = append(out, "inbox:"+id)
		}
	}
	return append(out, HouseholdTopic(householdID))
}

// HouseholdTopic is the topic of a household's own events.
func HouseholdTopic(id int64) string { return "household:" + strconv.FormatInt(id, 10) }

// ReachTopic is the topic of a notice's reach events.
func ReachTopic(id int64) string { return "notice:" + strconv.FormatInt(id, 10) }

// announce tells the open inboxes of n's recipients that it went out. It
// runs after the deliveries are committed.
func (s *Service) announce(ctx context.Context, n Notice) {
	if s.cfg.Publisher == nil || !n.Sent() {
		return
	}
	data := map[string]any{"id": n.ID}
	if (n.Flags == 0 && n.OrgID == 0) || n.Targeted > narrowFanout {
		s.publish(ctx, "inbox:"+strconv.FormatInt(n.UnitID, 10), "notice", map[string]any{"id": n.ID, "spread": spreadMillis(n.Targeted)})
		return
	}
	ids, err := db.Column[int64](s.d.Query(ctx, "SELECT household_id FROM notice_deliveries WHERE notice_id = ?", n.ID))
	if err != nil {
		s.cfg.Logger.Warn("announce", "notice", n.ID, "err", err)
		return
	}
	for _, id := range ids {
		s.publish(ctx, HouseholdTopic(id), "notice", data)
	}
}

// spreadMillis is how long the inboxes told of a notice to targeted
// households spread their reloads over (each waits a random part of it):
// nothing for a tổ, a second for a ward of 20,000 households, at most 30 s
// for a province, so the open inboxes do not all ask at the same instant.
func spreadMillis(targeted int) int { return min(targeted/20, 30000) }

// householdChanged tells the open inboxes of a household that its copy of
// notice id changed (another member, or an official, acknowledged it).
func (s *Service) householdChanged(ctx context.Context, householdID, id int64) {
	s.publish(ctx, HouseholdTopic(householdID), "notice", idEvent(id))
}

// reachChanged publishes a reach event for notice id now, or — when one
// went less than reachEvery ago — once that interval is over, folding in
// every change until then.
func (s *Service) reachChanged(id int64) {
	if s.cfg.Publisher == nil {
		return
	}
	t := &s.live
	now := time.Now()
	t.mu.Lock()
	if t.last == nil {
		t.last, t.pending = map[int64]time.Time{}, map[int64]bool{}
	}
	if t.pending[id] {
		t.mu.Unlock()
		return
	}
	wait := reachEvery - now.Sub(t.last[id])
	if wait > 0 {
		t.pending[id] = true
		t.mu.Unlock()
		time.AfterFunc(wait, func() {
			t.mu.Lock()
			delete(t.pending, id)
			t.last[id] = time.Now()
			t.mu.Unlock()
			s.publishReach(id)
		})
		return
	}
	t.last[id] = now
	if len(t.last) > 1024 { // forget notices that went quiet
		for k, at := range t.last {
			if now.Sub(at) >= reachEvery && !t.pending[k] {
				delete(t.last, k)
			}
		}
	}
	t.mu.Unlock()
	s.publishReach(id)
}

func (s *Service) publishReach(id int64) {
	// The event outlives the request that caused it.
	s.publish(context.Background(), ReachTopic(id), "reach", idEvent(id))
}

// liveState is the reach events' throttle (when each notice's last event
// went, and which have one scheduled) and the inbox topics of the streams
// being opened.
type liveState struct {
	mu      sync.Mutex
	last    map[int64]time.Time
	pending map[int64]bool

	topicsMu sync.Mutex
	topics   map[*account.Principal]cachedTopics
}

type cachedTopics struct {
	topics []string
	at     time.Time
}

// topicsTTL is how long the inbox topics of a principal are reused: an
// inbox's stream asks for six or so topics, each checked on its own, and
// after a restart every open inbox reconnects at once; one household
// lookup per stream, not one per topic.
const topicsTTL = 5 * time.Second

// inboxTopics returns p's inbox topics, from load unless a check of the
// same principal (one stream's request) loaded them moments ago.
func (l *liveState) inboxTopics(p *account.Principal, load func() ([]string, error)) ([]string, error) {
	now := time.Now()
	l.topicsMu.Lock()
	c, ok := l.topics[p]
	l.topicsMu.Unlock()
	if ok && now.Sub(c.at) < topicsTTL {
		return c.topics, nil
	}
	topics, err := load()
	if err != nil {
		return nil, err
	}
	l.topicsMu.Lock()
	if l.topics == nil || len(l.topics) > 4096 {
		l.topics = map[*account.Principal]cachedTopics{} // old entries go with it
	}
	l.topics[p] = cachedTopics{topics, now}
	l.topicsMu.Unlock()
	return topics, nil
}

// idEvent is the data {"id":id} of an event, written directly: every
// acknowledgement publishes one, and a map through encoding/json costs a
// map, reflection and several allocations.
func idEvent(id int64) json.RawMessage {
	return append(strconv.AppendInt(append(make(json.RawMessage, 0, 32), `{"id":`...), id, 10), '}')
}
