package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/demo"
	"github.com/trothu/trothu/internal/notice"
)

// nextFor returns the next event named name about notice id (others are
// skipped), failing after 5 s without one.
func (s *stream) nextFor(t *testing.T, name string, id int64) sseEvent {
	t.Helper()
	for {
		ev := s.next(t, name)
		var d struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(ev.Data, &d) == nil && d.ID == id {
			return ev
		}
	}
}

// TestNoticeLiveTopics: who may listen on the announcement topics of
// /events, and what arrives there. A resident's inbox hears of a notice to
// its khu phố (one event on the unit's topic, carrying no title) and of an
// official's proxy acknowledgement of the household; the official's reach
// page hears of the acknowledgement. A resident may not listen to a
// notice's reach, another unit's inbox or another household.
func TestNoticeLiveTopics(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ward := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		kp1, kp2 := e.child(t, ward.ID, "Khu phố 1"), e.child(t, ward.ID, "Khu phố 2")
		official, resident, other, head := e.token(t, phoneOfficial), e.token(t, phoneResident), e.token(t, phoneResidentOther), e.token(t, phoneGroupHead)

		topics, err := e.app.Notices.InboxTopics(ctx, e.principal(t, phoneResident))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"inbox:" + idStr(ward.ID), "inbox:" + idStr(kp1.ID)} {
			if !slices.Contains(topics, want) {
				t.Fatalf("resident's inbox topics: got %v, want %s among them", topics, want)
			}
		}
		hhTopic := topics[len(topics)-1]
		hid, err := strconv.ParseInt(strings.TrimPrefix(hhTopic, "household:"), 10, 64)
		if err != nil || !strings.HasPrefix(hhTopic, "household:") {
			t.Fatalf("resident's inbox topics: got %v, want the household's last", topics)
		}
		otherTopics, err := e.app.Notices.InboxTopics(ctx, e.principal(t, phoneResidentOther))
		if err != nil || len(otherTopics) == 0 {
			t.Fatalf("other resident's inbox topics: got %v, %v", otherTopics, err)
		}

		send := func(unit int64, title string) int64 {
			return e.must(t, http.StatusCreated, "POST", "/notices", official, map[string]any{"unit_id": unit, "title": title, "body": "Nội dung.", "ack_required": true}).num("id")
		}
		elsewhere := send(kp2.ID, "Chỉ gửi Khu phố 2")

		// Refused: the stream is not opened at all.
		for _, c := range []struct {
			name, token, query string
			want               int
		}{
			{"a resident, the reach of a notice to another khu phố", resident, "?topic=notice:" + idStr(elsewhere), http.StatusForbidden},
			{"a resident, another khu phố's inbox", resident, "?topic=inbox:" + idStr(kp2.ID), http.StatusForbidden},
			{"a resident, another household", resident, "?topic=" + otherTopics[len(otherTopics)-1], http.StatusForbidden},
			{"a resident of another ward, this household", other, "?topic=" + hhTopic, http.StatusForbidden},
			{"a resident of another ward, this khu phố", other, "?topic=inbox:" + idStr(kp1.ID), http.StatusForbidden},
			{"a resident, a unit that is no number", resident, "?topic=inbox:abc", http.StatusForbidden},
			{"an official, a notice that does not exist", official, "?topic=notice:999999999", http.StatusNotFound},
			{"anonymous, a notice's reach", "", "?topic=notice:" + idStr(elsewhere), http.StatusUnauthorized},
		} {
			t.Run(c.name, func(t *testing.T) { e.openEvents(t, c.token, "", c.query, c.want) })
		}

		q := ""
		for _, tp := range topics {
			q += "&topic=" + tp
		}
		inbox := e.openEvents(t, resident, "", "?"+q[1:], http.StatusOK)
		inbox.next(t, "ready")

		id := send(kp1.ID, "Họp tổ dân phố tối thứ Bảy")
		ev := inbox.nextFor(t, "notice", id)
		if ev.Topic != "inbox:"+idStr(kp1.ID) {
			t.Errorf("new notice: got it on %s, want the khu phố's topic inbox:%d", ev.Topic, kp1.ID)
		}
		if strings.Contains(string(ev.Data), "Họp") {
			t.Errorf("new notice event: got %s, want ids only (every inbox of the subtree hears it)", ev.Data)
		}

		// The resident got the notice but may not follow its reach.
		e.openEvents(t, resident, "", "?topic=notice:"+idStr(id), http.StatusForbidden)
		reach := e.openEvents(t, official, "", "?topic=notice:"+idStr(id), http.StatusOK)
		reach.next(t, "ready")

		e.must(t, http.StatusOK, "POST", fmt.Sprintf("/notices/%d/households/%d/ack", id, hid), head, map[string]string{"note": "Đã báo trực tiếp"})
		if ev := inbox.nextFor(t, "notice", id); ev.Topic != hhTopic {
			t.Errorf("proxy acknowledgement: got it on %s, want the household's topic %s", ev.Topic, hhTopic)
		}
		if ev := reach.nextFor(t, "reach", id); ev.Topic != notice.ReachTopic(id) {
			t.Errorf("reach event: got it on %s, want %s", ev.Topic, notice.ReachTopic(id))
		}

		// The inbox part the page reloads carries the new notice and the
		// acknowledgement, without the layout.
		status, body, _ := e.page(t, "GET", "/notices?part=inbox", resident, nil)
		if status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), `<section id="inbox"`) ||
			!strings.Contains(body, fmt.Sprintf(`href="/notices/%d"`, id)) || strings.Contains(body, "<html") {
			t.Errorf("inbox part: got %d %.200q, want the inbox section alone with notice %d", status, body, id)
		}
		status, body, _ = e.page(t, "GET", fmt.Sprintf("/notices/%d/reach?part=reach", id), official, nil)
		if status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), `<section id="reach"`) || !strings.Contains(body, `id="reach-acked">1<`) {
			t.Errorf("reach part: got %d %.300q, want the reach section alone with 1 acknowledgement", status, body)
		}
		if status, _, _ := e.page(t, "GET", fmt.Sprintf("/notices/%d/reach?part=reach", id), resident, nil); status != http.StatusForbidden {
			t.Errorf("reach part for a resident: got %d, want 403", status)
		}
	})
}

func idStr(n int64) string { return strconv.FormatInt(n, 10) }
