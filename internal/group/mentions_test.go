package group

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/realtime"
)

func TestMentionSpans(t *testing.T) {
	people := []Mention{{1, "Nguyễn Thị Lan"}, {2, "Cô Út"}}
	cases := []struct {
		body string
		want []string
	}{
		{"@Lan ơi, mai họp nhé", []string{"@Lan"}},
		{"Nhờ @cô út mua giúp", []string{"@cô út"}},
		{"@Nguyễn Thị Lan, @Út: cảm ơn!", []string{"@Nguyễn Thị Lan", "@Út"}},
		{"@nguyen thi lan.", []string{"@nguyen thi lan"}},
		{"mail lan@example.com", nil},
		{"@ Lan", nil},
		{"@Minh ơi", nil},
		{"@Lan\nhọp", []string{"@Lan"}},
	}
	for _, c := range cases {
		var got []string
		for _, sp := range MentionSpans(c.body, people) {
			got = append(got, c.body[sp[0]:sp[1]])
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("MentionSpans(%q): got %q, want %q", c.body, got, c.want)
		}
	}
}

func TestMentionsResolveAgainstMembers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Phạm Thị Hoa", account.RoleGroupHead, w.to3)
		lan := w.person("Nguyễn Thị Lan", account.RoleResident, w.to3)
		lan2 := w.person("Trần Thị Lan", account.RoleResident, w.to3)
		ut := w.person("Cô Út", account.RoleResident, w.to3)
		outsider := w.person("Lê Văn Xa", account.RoleResident, w.to4)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3", JoinPolicy: PolicyAuto})
		for _, p := range []*account.Principal{lan, lan2, ut, outsider} {
			if _, err := w.s.Mine(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		utEvents := w.subscribe(AccountTopic(ut.AccountID))
		lanEvents := w.subscribe(AccountTopic(lan.AccountID))

		// "Út" names one member; "Lan" names two, so only the full name counts;
		// the outsider is not a member; the author is never mentioned.
		m := w.post(head, g.ID, "@cô ut nhờ cô mua giúp; @Lan và @nguyen thi lan nhận hàng; @Lê Văn Xa; @Phạm Thị Hoa")
		var got []int64
		for _, mn := range m.Mentions {
			got = append(got, mn.AccountID)
		}
		if want := []int64{lan.AccountID, ut.AccountID}; !slices.Equal(got, want) {
			t.Fatalf("mentions: got %v, want %v (Lan, Út)", got, want)
		}
		for name, sub := range map[string]*realtime.Subscription{"Út": utEvents, "Lan": lanEvents} {
			ev := next(t, sub)
			var d struct {
				MessageID int64 `json:"message_id"`
			}
			if err := json.Unmarshal(ev.Data, &d); err != nil || ev.Name != "mention" || d.MessageID != m.ID {
				t.Fatalf("%s's event: got %s %s, want mention of message %d", name, ev.Name, ev.Data, m.ID)
			}
		}
		// Listing shows the mentions to every member.
		msgs, _, err := w.s.List(ctx, lan2, g.ID, ListFilter{})
		if err != nil || len(msgs) != 1 || len(msgs[0].Mentions) != 2 {
			t.Fatalf("listed mentions: got %+v (%v), want 2", msgs, err)
		}
	})
}

func TestMessageForViewerAndSeenEvent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Phạm Thị Hoa", account.RoleGroupHead, w.to3)
		lan := w.person("Nguyễn Thị Lan", account.RoleResident, w.to3)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3", JoinPolicy: PolicyAuto})
		mod := w.subscribe(Topic(g.ID) + ":mod")
		m := w.post(head, g.ID, "Họp tổ tối thứ Bảy")
		if err := w.s.MarkRead(ctx, lan, g.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		ev := next(t, mod)
		var seen struct {
			AccountID int64 `json:"account_id"`
			From      int64 `json:"from"`
			Upto      int64 `json:"upto"`
		}
		if err := json.Unmarshal(ev.Data, &seen); err != nil {
			t.Fatal(err)
		}
		if ev.Name != "seen" || seen.AccountID != lan.AccountID || seen.Upto != m.ID || seen.From != 0 {
			t.Fatalf("moderators' event: got %s %s, want seen by Lan up to %d", ev.Name, ev.Data, m.ID)
		}
		got, err := w.s.Message(ctx, head, g.ID, m.ID)
		if err != nil || got.SeenBy == nil || *got.SeenBy != 1 {
			t.Fatalf("head's view: got %+v (%v), want seen by 1", got.SeenBy, err)
		}
		if err := w.s.Hide(ctx, head, g.ID, m.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Message(ctx, lan, g.ID, m.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("member reads a hidden message: got %v, want not found", err)
		}
		if got, err := w.s.Message(ctx, head, g.ID, m.ID); err != nil || !got.Hidden {
			t.Fatalf("moderator reads a hidden message: got %+v (%v), want it, hidden", got, err)
		}
	})
}

func TestTransferOwnershipThenLeave(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		kpHead := w.person("Trưởng khu phố", account.RoleNeighbourhoodHead, w.kp)
		lan := w.person("Nguyễn Thị Lan", account.RoleResident, w.to3)
		minh := w.person("Trần Văn Minh", account.RoleResident, w.to3)
		g := w.create(kpHead, Input{UnitID: w.to3, Name: "Tổ 3", JoinPolicy: PolicyAuto})
		for _, p := range []*account.Principal{lan, minh} {
			if _, err := w.s.Mine(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.s.Leave(ctx, kpHead, g.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("owner leaves: got %v, want conflict", err)
		}
		if err := w.s.TransferOwnership(ctx, minh, g.ID, minh.AccountID); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("member takes the group: got %v, want forbidden", err)
		}
		if err := w.s.TransferOwnership(ctx, kpHead, g.ID, 999999); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("to a stranger: got %v, want not found", err)
		}
		if err := w.s.TransferOwnership(ctx, kpHead, g.ID, lan.AccountID); err != nil {
			t.Fatal(err)
		}
		if d, _ := w.s.Get(ctx, lan, g.ID); d.Role != RoleOwner || !d.CanModerate {
			t.Fatalf("Lan after the transfer: got role %q, want owner", d.Role)
		}
		if d, _ := w.s.Get(ctx, kpHead, g.ID); d.Role != RoleModerator {
			t.Fatalf("previous owner: got role %q, want moderator", d.Role)
		}
		if err := w.s.Leave(ctx, kpHead, g.ID); err != nil {
			t.Fatalf("previous owner leaves: got %v, want nil", err)
		}
		if n := w.auditCount("group.owner_transferred"); n != 1 {
			t.Fatalf("audit entries: got %d, want 1", n)
		}
		var owners int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM group_members WHERE group_id = ? AND role = 'owner'", g.ID).Scan(&owners); err != nil || owners != 1 {
			t.Fatalf("owners: got %d (%v), want 1", owners, err)
		}
	})
}

func TestMentionSuggestions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		head := w.person("Phạm Thị Hoa", account.RoleGroupHead, w.to3)
		lan := w.person("Nguyễn Thị Lan", account.RoleResident, w.to3)
		lan2 := w.person("Trần Thị Lân", account.RoleResident, w.to3)
		nga := w.person("Lê Thị Nga", account.RoleResident, w.to3)
		outsider := w.person("Lê Văn Xa", account.RoleResident, w.to4)
		g := w.create(head, Input{UnitID: w.to3, Name: "Tổ 3", JoinPolicy: PolicyAuto})
		for _, p := range []*account.Principal{lan, lan2, nga, outsider} {
			if _, err := w.s.Mine(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		names := func(p *account.Principal, q string) []string {
			t.Helper()
			ms, err := w.s.MentionSuggestions(ctx, p, g.ID, q)
			if err != nil {
				t.Fatalf("suggest %q: %v", q, err)
			}
			var out []string
			for _, m := range ms {
				out = append(out, m.Name)
			}
			return out
		}
		cases := []struct {
			by   *account.Principal
			q    string
			want []string
		}{
			{head, "lan", []string{"Nguyễn Thị Lan", "Trần Thị Lân"}},            // folded: "lan" finds "Lân"
			{head, "thi l", []string{"Nguyễn Thị Lan", "Trần Thị Lân"}},          // several words, the last a prefix
			{head, "le", []string{"Lê Thị Nga"}},                                 // the outsider is no member
			{head, "ng", []string{"Nguyễn Thị Lan", "Lê Thị Nga"}},               // name start first
			{lan, "thi", []string{"Lê Thị Nga", "Phạm Thị Hoa", "Trần Thị Lân"}}, // never oneself
			{head, "  ", nil},
			{head, "xa", nil},
		}
		for _, c := range cases {
			if got := names(c.by, c.q); !slices.Equal(got, c.want) {
				t.Errorf("suggest %q: got %q, want %q", c.q, got, c.want)
			}
		}
		if _, err := w.s.MentionSuggestions(ctx, outsider, g.ID, "lan"); err == nil {
			t.Fatal("an outsider got the group's member names")
		}
	})
}
