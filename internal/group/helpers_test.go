package group

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/media"
	"github.com/trothu/trothu/internal/realtime"
)

var testKey = []byte("group-test-secret-key-of-at-least-32-bytes")

// world is a small tree — ward 1 > khu phố 2 > tổ 3 and tổ 4 — with people.
type world struct {
	t      *testing.T
	d      *db.DB
	s      *Service
	b      *realtime.Broker
	clock  *time.Time
	ward   int64
	kp     int64
	to3    int64
	to4    int64
	paths  map[int64]string
	nextID int64
}

func newWorld(t *testing.T, d *db.DB) *world {
	t.Helper()
	b, err := realtime.New(realtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	store, err := media.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	w := &world{t: t, d: d, b: b, clock: &now, paths: map[int64]string{}, nextID: 100}
	w.s = New(d, Config{Areas: area.NewService(d, testKey), Broker: b, Media: store, Now: func() time.Time { return *w.clock }})
	w.ward = w.unit(0, "commune", "Phường Một")
	w.kp = w.unit(w.ward, "neighbourhood", "Khu phố 2")
	w.to3 = w.unit(w.kp, "group", "Tổ 3")
	w.to4 = w.unit(w.kp, "group", "Tổ 4")
	return w
}

func (w *world) advance(d time.Duration) { *w.clock = w.clock.Add(d) }

func (w *world) exec(q string, args ...any) {
	w.t.Helper()
	err := w.d.Write(context.Background(), func(tx *db.Tx) error {
		_, err := tx.Exec(context.Background(), q, args...)
		return err
	})
	if err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

func (w *world) unit(parent int64, level, name string) int64 {
	w.t.Helper()
	w.nextID++
	id := w.nextID
	path := fmt.Sprintf("%s%d/", w.paths[parent], id)
	if parent == 0 {
		path = fmt.Sprintf("/%d/", id)
	}
	w.paths[id] = path
	w.exec("INSERT INTO units(id, parent_id, path, level, name, full_name, kind, name_fold, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
		id, nullID(parent), path, level, name, name, level, name)
	return id
}

// person makes an account with role on unit and returns its principal.
func (w *world) person(name string, role account.Role, unit int64) *account.Principal {
	w.t.Helper()
	w.nextID++
	id := w.nextID
	w.exec("INSERT INTO accounts(id, phone, name, created_at) VALUES (?, ?, ?, 0)", id, fmt.Sprintf("+8491%07d", id), name)
	return &account.Principal{AccountID: id, Name: name, Grants: []account.Grant{{Role: role, UnitID: unit, UnitPath: w.paths[unit]}}}
}

func (w *world) create(p *account.Principal, in Input) Group {
	w.t.Helper()
	g, err := w.s.Create(context.Background(), p, in)
	if err != nil {
		w.t.Fatalf("create group %q: %v", in.Name, err)
	}
	return g
}

func (w *world) post(p *account.Principal, gid int64, body string) Message {
	w.t.Helper()
	m, err := w.s.Post(context.Background(), p, gid, PostInput{Body: body})
	if err != nil {
		w.t.Fatalf("%s posts %q: %v", p.Name, body, err)
	}
	return m
}

func (w *world) subscribe(topics ...string) *realtime.Subscription {
	w.t.Helper()
	s, err := w.b.Subscribe(topics, "")
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(s.Close)
	return s
}

func next(t *testing.T, s *realtime.Subscription) *realtime.Event {
	t.Helper()
	select {
	case ev := <-s.C:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return nil
	}
}

func bodies(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Body
	}
	return out
}

func (w *world) auditCount(action string) int {
	w.t.Helper()
	var n int
	if err := w.d.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = ?", action).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}
