package group

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

func TestAutoGroupMembersPostReadAndSeenBy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Phạm Thị Hoa", account.RoleGroupHead, w.to3)
		lan := w.person("Nguyễn Thị Lan", account.RoleResident, w.to3)
		minh := w.person("Trần Văn Minh", account.RoleResident, w.to3)
		outsider := w.person("Lê Văn Xa", account.RoleResident, w.to4)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3 — Khu phố 2", JoinPolicy: PolicyAuto})

		mine, err := w.s.Mine(ctx, lan)
		if err != nil || len(mine) != 1 || mine[0].ID != g.ID {
			t.Fatalf("Lan's groups: got %v (%v), want the tổ's group", mine, err)
		}
		if out, _ := w.s.Mine(ctx, outsider); len(out) != 0 {
			t.Fatalf("resident of tổ 4: got %d groups, want 0", len(out))
		}
		if _, _, err := w.s.List(ctx, outsider, g.ID, ListFilter{}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("outsider reads: got %v, want forbidden", err)
		}

		sub := w.subscribe(Topic(g.ID))
		notice := w.post(head, g.ID, "Thông báo: sáng mai phun thuốc diệt muỗi")
		if ev := next(t, sub); ev.Name != "message" || !strings.Contains(string(ev.Data), "phun thuốc") {
			t.Fatalf("event: got %s %s, want the message", ev.Name, ev.Data)
		}
		w.post(lan, g.ID, "Dạ em biết rồi ạ")

		d1, err := w.s.Get(ctx, minh, g.ID)
		if err != nil || d1.Unread != 2 {
			t.Fatalf("Minh's unread: got %d (%v), want 2", d1.Unread, err)
		}
		if d2, _ := w.s.Get(ctx, lan, g.ID); d2.Unread != 0 {
			t.Fatalf("Lan's unread (she replied after the notice): got %d, want 0", d2.Unread)
		}
		msgs, _, err := w.s.List(ctx, head, g.ID, ListFilter{})
		if err != nil || msgs[0].SeenBy == nil || *msgs[0].SeenBy != 1 {
			t.Fatalf("seen by before Minh reads: got %+v (%v), want 1 (Lan)", msgs[0].SeenBy, err)
		}
		if err := w.s.MarkRead(ctx, minh, g.ID, notice.ID); err != nil {
			t.Fatal(err)
		}
		msgs, _, _ = w.s.List(ctx, head, g.ID, ListFilter{})
		if *msgs[0].SeenBy != 2 {
			t.Fatalf("seen by after Minh reads: got %d, want 2", *msgs[0].SeenBy)
		}
		if d, _ := w.s.Get(ctx, minh, g.ID); d.Unread != 1 {
			t.Fatalf("Minh's unread after reading the first: got %d, want 1", d.Unread)
		}
		if lm, _, _ := w.s.List(ctx, lan, g.ID, ListFilter{}); lm[0].SeenBy != nil {
			t.Fatalf("a member sees seen-by: got %d, want it for moderators only", *lm[0].SeenBy)
		}
	})
}

func TestHistoryPagesBackAndCatchesUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Tổ trưởng", account.RoleGroupHead, w.to3)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3"})
		var ids []int64
		for i := 1; i <= 7; i++ {
			ids = append(ids, w.post(head, g.ID, fmt.Sprintf("tin %d", i)).ID)
		}
		page, more, err := w.s.List(ctx, head, g.ID, ListFilter{Limit: 3})
		if err != nil || !more || strings.Join(bodies(page), ",") != "tin 5,tin 6,tin 7" {
			t.Fatalf("newest page: got %v more=%v (%v), want tin 5..7 and more", bodies(page), more, err)
		}
		page, more, _ = w.s.List(ctx, head, g.ID, ListFilter{Limit: 3, Before: page[0].ID})
		if !more || strings.Join(bodies(page), ",") != "tin 2,tin 3,tin 4" {
			t.Fatalf("older page: got %v more=%v, want tin 2..4 and more", bodies(page), more)
		}
		page, more, _ = w.s.List(ctx, head, g.ID, ListFilter{Limit: 3, Before: page[0].ID})
		if more || strings.Join(bodies(page), ",") != "tin 1" {
			t.Fatalf("oldest page: got %v more=%v, want tin 1 and no more", bodies(page), more)
		}
		page, _, _ = w.s.List(ctx, head, g.ID, ListFilter{After: ids[4]})
		if strings.Join(bodies(page), ",") != "tin 6,tin 7" {
			t.Fatalf("after tin 5: got %v, want tin 6, tin 7", bodies(page))
		}
	})
}

func TestAnnounceOnlyMembersReplyInThreads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		official := w.person("Cán bộ phường", account.RoleOfficial, w.ward)
		res := w.person("Cư dân", account.RoleResident, w.to4)
		g := w.create(official, Input{UnitID: w.ward, Name: "Phường Một — Thông báo", AnnounceOnly: true})
		if _, err := w.s.Post(ctx, res, g.ID, PostInput{Body: "Cho hỏi"}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("member posts in announce-only: got %v, want forbidden", err)
		}
		ann := w.post(official, g.ID, "Lịch tiêm chủng tháng 3")
		r1, err := w.s.Post(ctx, res, g.ID, PostInput{Body: "Tiêm ở đâu ạ?", ReplyTo: ann.ID})
		if err != nil {
			t.Fatalf("member replies: %v", err)
		}
		// A reply to a reply joins the same thread.
		if _, err := w.s.Post(ctx, official, g.ID, PostInput{Body: "Ở trạm y tế phường", ReplyTo: r1.ID}); err != nil {
			t.Fatal(err)
		}
		top, _, _ := w.s.List(ctx, res, g.ID, ListFilter{})
		if len(top) != 1 || top[0].Replies != 2 {
			t.Fatalf("timeline: got %d messages with %d replies, want 1 with 2", len(top), top[0].Replies)
		}
		thread, _, _ := w.s.List(ctx, res, g.ID, ListFilter{Thread: ann.ID})
		if strings.Join(bodies(thread), "|") != "Tiêm ở đâu ạ?|Ở trạm y tế phường" {
			t.Fatalf("thread: got %v", bodies(thread))
		}
		det, _ := w.s.Get(ctx, res, g.ID)
		if det.CanPost || det.CanModerate {
			t.Fatalf("member of announce-only: got can_post=%v can_moderate=%v, want both false", det.CanPost, det.CanModerate)
		}
	})
}

func TestReportHideAndMemberModeration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		police := w.person("Cảnh sát khu vực", account.RolePolice, w.ward)
		head := w.person("Tổ trưởng", account.RoleGroupHead, w.to3)
		a := w.person("Người A", account.RoleResident, w.to3)
		b := w.person("Người B", account.RoleResident, w.to3)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3"})
		bad := w.post(a, g.ID, "quảng cáo lừa đảo")
		if _, err := w.s.Mine(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := w.s.ReportMessage(ctx, b, g.ID, bad.ID, "Lừa đảo"); err != nil {
			t.Fatal(err)
		}
		if err := w.s.ReportMessage(ctx, b, g.ID, bad.ID, "again"); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("second report: got %v, want conflict", err)
		}
		if _, err := w.s.Reports(ctx, b, g.ID, true, 0, 0); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("member opens the queue: got %v, want forbidden", err)
		}
		// The ward's police officer oversees every group under the ward.
		queue, err := w.s.Reports(ctx, police, g.ID, true, 0, 0)
		if err != nil || len(queue) != 1 || queue[0].Message.Body != "quảng cáo lừa đảo" {
			t.Fatalf("queue: got %+v (%v), want the report", queue, err)
		}
		sub := w.subscribe(Topic(g.ID))
		if err := w.s.Hide(ctx, b, g.ID, bad.ID, true); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("member hides: got %v, want forbidden", err)
		}
		if err := w.s.Hide(ctx, police, g.ID, bad.ID, true); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, sub); ev.Name != "hide" || !strings.Contains(string(ev.Data), fmt.Sprint(bad.ID)) {
			t.Fatalf("event: got %s %s, want hide of %d", ev.Name, ev.Data, bad.ID)
		}
		if ms, _, _ := w.s.List(ctx, b, g.ID, ListFilter{}); len(ms) != 0 {
			t.Fatalf("member's view after hiding: got %v, want nothing", bodies(ms))
		}
		if ms, _, _ := w.s.List(ctx, head, g.ID, ListFilter{}); len(ms) != 1 || !ms[0].Hidden {
			t.Fatalf("moderator's view: got %+v, want the message marked hidden", ms)
		}
		if q, _ := w.s.Reports(ctx, police, g.ID, true, 0, 0); len(q) != 0 {
			t.Fatalf("open reports after hiding: got %d, want 0", len(q))
		}
		// Mute, then ban: a banned member cannot come back by place.
		if err := w.s.Moderate(ctx, head, g.ID, a.AccountID, ActMute, 60); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Post(ctx, a, g.ID, PostInput{Body: "xin lỗi"}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("muted posts: got %v, want forbidden", err)
		}
		w.advance(61 * time.Minute)
		w.post(a, g.ID, "xin lỗi mọi người")
		if err := w.s.Moderate(ctx, head, g.ID, a.AccountID, ActBan, 0); err != nil {
			t.Fatal(err)
		}
		if mine, _ := w.s.Mine(ctx, a); len(mine) != 0 {
			t.Fatalf("banned member's groups: got %d, want 0", len(mine))
		}
		if _, err := w.s.Join(ctx, a, g.ID); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("banned joins again: got %v, want forbidden", err)
		}
		if err := w.s.Moderate(ctx, head, g.ID, head.AccountID, ActBan, 0); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("ban the owner: got %v, want conflict", err)
		}
		for _, act := range []string{"group.message_reported", "group.message_hidden", "group.member_mute", "group.member_ban"} {
			if n := w.auditCount(act); n != 1 {
				t.Errorf("audit %s: got %d entries, want 1", act, n)
			}
		}
	})
}

func TestEditDeleteWindowAndHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Tổ trưởng", account.RoleGroupHead, w.to3)
		a := w.person("Người A", account.RoleResident, w.to3)
		b := w.person("Người B", account.RoleResident, w.to3)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3"})
		m := w.post(a, g.ID, "Họp tổ lúc 7 giờ")
		if _, err := w.s.Edit(ctx, b, g.ID, m.ID, "sửa trộm"); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("someone else edits: got %v, want forbidden", err)
		}
		e, err := w.s.Edit(ctx, a, g.ID, m.ID, "Họp tổ lúc 19 giờ")
		if err != nil || e.Body != "Họp tổ lúc 19 giờ" || e.EditedAt == 0 {
			t.Fatalf("edit: got %+v (%v)", e, err)
		}
		hist, err := w.s.History(ctx, head, g.ID, m.ID)
		if err != nil || len(hist) != 1 || hist[0].Body != "Họp tổ lúc 7 giờ" {
			t.Fatalf("history: got %+v (%v), want the first text", hist, err)
		}
		if _, err := w.s.History(ctx, b, g.ID, m.ID); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("member reads history: got %v, want forbidden", err)
		}
		w.advance(16 * time.Minute)
		if _, err := w.s.Edit(ctx, a, g.ID, m.ID, "muộn"); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("edit after the window: got %v, want conflict", err)
		}
		if err := w.s.Delete(ctx, a, g.ID, m.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("delete after the window: got %v, want conflict", err)
		}
		if err := w.s.Delete(ctx, head, g.ID, m.ID); err != nil {
			t.Fatalf("moderator deletes: %v", err)
		}
		ms, _, _ := w.s.List(ctx, b, g.ID, ListFilter{})
		if len(ms) != 1 || !ms[0].Deleted || ms[0].Body != "" {
			t.Fatalf("member's view of a deleted message: got %+v, want a placeholder without text", ms)
		}
		ms, _, _ = w.s.List(ctx, head, g.ID, ListFilter{})
		if ms[0].Body != "Họp tổ lúc 19 giờ" {
			t.Fatalf("moderator's view of a deleted message: got %q, want the text", ms[0].Body)
		}
	})
}

func TestReactionsPinsSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Tổ trưởng", account.RoleGroupHead, w.to3)
		a := w.person("Người A", account.RoleResident, w.to3)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3"})
		other := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3 — Hội Phụ nữ"})
		m := w.post(head, g.ID, "Hộ nào cần hỗ trợ nhu yếu phẩm, gọi Cô Út")
		w.post(head, other.ID, "Cô Út đi chợ giúp các hộ đang cách ly")
		w.post(head, g.ID, "Ngày mai cúp điện")
		for _, p := range []*account.Principal{head, a} {
			if _, err := w.s.React(ctx, p, g.ID, m.ID, "👍", true); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.s.React(ctx, a, g.ID, m.ID, "💩", true); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("unknown reaction: got %v, want invalid", err)
		}
		ms, _, _ := w.s.List(ctx, a, g.ID, ListFilter{})
		if ms[0].Reactions["👍"] != 2 || !slices.Equal(ms[0].MyReactions, []string{"👍"}) {
			t.Fatalf("reactions: got %v mine %v, want 👍 2 and mine", ms[0].Reactions, ms[0].MyReactions)
		}
		if err := w.s.Pin(ctx, a, g.ID, m.ID, true); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("member pins: got %v, want forbidden", err)
		}
		if err := w.s.Pin(ctx, head, g.ID, m.ID, true); err != nil {
			t.Fatal(err)
		}
		if pins, _ := w.s.Pinned(ctx, a, g.ID); len(pins) != 1 || pins[0].ID != m.ID {
			t.Fatalf("pinned: got %v, want the message", bodies(pins))
		}
		// Diacritic-insensitive, across a member's groups or within one.
		if _, err := w.s.Mine(ctx, a); err != nil {
			t.Fatal(err)
		}
		found, err := w.s.Search(ctx, a, 0, "co ut", 0)
		if err != nil || len(found) != 2 {
			t.Fatalf("search 'co ut' across groups: got %v (%v), want 2", bodies(found), err)
		}
		found, _ = w.s.Search(ctx, a, g.ID, "CÔ ÚT nhu yeu pham", 0)
		if len(found) != 1 || found[0].ID != m.ID {
			t.Fatalf("search within the group: got %v, want the one message", bodies(found))
		}
	})
}

func TestJoinByApprovalAndInvite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Trưởng khu phố", account.RoleNeighbourhoodHead, w.kp)
		near := w.person("Người trong khu phố", account.RoleResident, w.to4)
		far := w.person("Người nơi khác", account.RoleResident, w.ward)
		club := w.create(head, Input{UnitID: w.kp, Name: "CLB dưỡng sinh", JoinPolicy: PolicyApproval})
		if mine, _ := w.s.Mine(ctx, near); len(mine) != 0 {
			t.Fatalf("approval group joined automatically: got %d groups", len(mine))
		}
		det, err := w.s.Join(ctx, near, club.ID)
		if err != nil || det.State != StatePending {
			t.Fatalf("ask to join: got %+v (%v), want pending", det.State, err)
		}
		if _, _, err := w.s.List(ctx, near, club.ID, ListFilter{}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("pending reads: got %v, want forbidden", err)
		}
		if _, err := w.s.Join(ctx, far, club.ID); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("outsider asks to join: got %v, want forbidden", err)
		}
		pending, err := w.s.Members(ctx, head, club.ID, StatePending, 0, 0)
		if err != nil || len(pending) != 1 || pending[0].AccountID != near.AccountID || !strings.Contains(pending[0].Phone, "*") {
			t.Fatalf("pending list: got %+v (%v), want the request with a masked phone", pending, err)
		}
		if err := w.s.Moderate(ctx, head, club.ID, near.AccountID, ActApprove, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.s.List(ctx, near, club.ID, ListFilter{}); err != nil {
			t.Fatalf("approved member reads: %v", err)
		}

		inv, err := w.s.CreateInvite(ctx, head, club.ID, time.Hour)
		if err != nil || len(inv.Token) < 20 {
			t.Fatalf("invite: got %+v (%v)", inv, err)
		}
		if _, err := w.s.CreateInvite(ctx, near, club.ID, 0); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("member makes an invite: got %v, want forbidden", err)
		}
		if det, err := w.s.AcceptInvite(ctx, far, inv.Token); err != nil || det.State != StateActive {
			t.Fatalf("accept invite: got %+v (%v), want active", det, err)
		}
		if err := w.s.RevokeInvite(ctx, head, club.ID, inv.ID); err != nil {
			t.Fatal(err)
		}
		late := w.person("Người đến muộn", account.RoleResident, w.ward)
		if _, err := w.s.AcceptInvite(ctx, late, inv.Token); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("revoked invite: got %v, want not found", err)
		}
		inv2, _ := w.s.CreateInvite(ctx, head, club.ID, time.Hour)
		w.advance(2 * time.Hour)
		if _, err := w.s.AcceptInvite(ctx, late, inv2.Token); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("expired invite: got %v, want not found", err)
		}
	})
}

func TestPhotoMessageIsReencodedAndServedToMembersOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Tổ trưởng", account.RoleGroupHead, w.to3)
		outsider := w.person("Người ngoài", account.RoleResident, w.to4)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3"})
		var buf bytes.Buffer
		_ = png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 2000, 1000)))
		lat, lon := 10.7725, 106.6929
		m, err := w.s.Post(ctx, head, g.ID, PostInput{Body: "Ổ gà trước số 12", Photo: &buf, Lat: &lat, Lon: &lon})
		if err != nil {
			t.Fatal(err)
		}
		if m.PhotoW != 1600 || m.PhotoH != 800 || !strings.HasPrefix(m.PhotoURL, fmt.Sprintf("/groups/%d/photos/", g.ID)) || m.Lat == nil || *m.Lat != lat {
			t.Fatalf("photo message: got %dx%d %s lat %v, want 1600x800 under the group with the shared location", m.PhotoW, m.PhotoH, m.PhotoURL, m.Lat)
		}
		name := m.PhotoURL[strings.LastIndex(m.PhotoURL, "/")+1:]
		if err := w.s.PhotoAllowed(ctx, head, g.ID, name); err != nil {
			t.Fatalf("member's photo: %v", err)
		}
		if err := w.s.PhotoAllowed(ctx, outsider, g.ID, name); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("outsider's photo: got %v, want forbidden", err)
		}
		if _, err := w.s.Post(ctx, head, g.ID, PostInput{Photo: strings.NewReader("not an image")}); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("text as a photo: got %v, want invalid", err)
		}
	})
}
