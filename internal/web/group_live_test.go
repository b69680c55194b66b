package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/group"
	"github.com/trothu/trothu/internal/qr"
)

// liOf cuts message mid's list item out of a page.
func liOf(t *testing.T, page string, mid int64) string {
	t.Helper()
	start := strings.Index(page, fmt.Sprintf(`<li id="m-%d"`, mid))
	if start < 0 {
		t.Fatalf("page: got no item for message %d, want one", mid)
	}
	end := strings.Index(page[start:], "</li>")
	return page[start : start+end+len("</li>")]
}

// TestGroupFragmentIsThePageTemplate: what group.js fetches for a live
// message is the very item the chat page renders, menus and mentions
// included; hidden messages reach only moderators.
func TestGroupFragmentIsThePageTemplate(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		gid := e.newTo1Group(t, group.Input{})
		head, resident := e.token(t, phoneGroupHead), e.token(t, phoneResident)
		e.must(t, http.StatusOK, "GET", "/groups", resident, nil)
		name := e.principal(t, phoneResident).Name
		first := strings.Fields(name)
		m := e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/groups/%d/messages", gid), head,
			map[string]any{"body": "Nhờ @" + first[len(first)-1] + " nhận hàng giúp <b>tổ</b>"})
		mid := m.num("id")
		if ms := m.list("mentions"); len(ms) != 1 || ms[0].str("name") != name {
			t.Fatalf("mentions: got %v, want %s", m.get("mentions").v, name)
		}
		for who, tok := range map[string]string{"resident": resident, "head": head} {
			_, page, _ := e.page(t, "GET", fmt.Sprintf("/groups/%d", gid), tok, nil)
			st, frag, _ := e.page(t, "GET", fmt.Sprintf("/groups/%d/fragment?mid=%d", gid, mid), tok, nil)
			if st != http.StatusOK {
				t.Fatalf("%s's fragment: got %d, want 200", who, st)
			}
			if want := liOf(t, page, mid); strings.TrimSpace(frag) != want {
				t.Errorf("%s's fragment:\ngot  %s\nwant %s", who, frag, want)
			}
		}
		_, frag, _ := e.page(t, "GET", fmt.Sprintf("/groups/%d/fragment?mid=%d", gid, mid), resident, nil)
		for _, want := range []string{`<form class="reacts"`, `<details class="more">`, `button class="secondary report"`, `<mark class="mention me">@`, `<details class="pick">`, `data-emoji="❤️"`, "&lt;b&gt;tổ&lt;/b&gt;"} {
			if !strings.Contains(frag, want) {
				t.Errorf("resident's fragment: got %s, want %q in it", frag, want)
			}
		}
		if strings.Contains(frag, "/hide") {
			t.Errorf("resident's fragment: got a hide button, want none")
		}

		e.must(t, http.StatusNoContent, "POST", fmt.Sprintf("/groups/%d/messages/%d/hide", gid, mid), head, map[string]any{"on": true})
		if st, _, _ := e.page(t, "GET", fmt.Sprintf("/groups/%d/fragment?mid=%d", gid, mid), resident, nil); st != http.StatusNotFound {
			t.Errorf("resident's fragment of a hidden message: got %d, want 404", st)
		}
		_, frag, _ = e.page(t, "GET", fmt.Sprintf("/groups/%d/fragment?mid=%d", gid, mid), head, nil)
		if !strings.Contains(frag, ` hidden" data-id=`) || !strings.Contains(frag, "/unhide") {
			t.Errorf("head's fragment of a hidden message: got %s, want it hidden with an unhide button", frag)
		}
		e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/groups/%d/messages", gid), resident, map[string]any{"body": "Tin sau một"})
		e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/groups/%d/messages", gid), resident, map[string]any{"body": "Tin sau hai"})
		_, frag, _ = e.page(t, "GET", fmt.Sprintf("/groups/%d/fragment?after=%d", gid, mid-1), resident, nil)
		if n := strings.Count(frag, `<li id="m-`); n != 2 || !strings.Contains(frag, "Tin sau hai") {
			t.Errorf("resident's catch-up after %d: got %d items (%s), want the 2 visible ones", mid-1, n, frag)
		}
		if st, _, _ := e.page(t, "GET", fmt.Sprintf("/groups/%d/fragment?after=0", gid), e.token(t, phoneResidentOther), nil); st != http.StatusForbidden {
			t.Errorf("outsider's fragment: got %d, want 403", st)
		}
	})
}

var inviteInput = regexp.MustCompile(`<input readonly value="([^"]+)"`)

// TestGroupInviteShowsQRCode: the invite page shows the new link and the
// same link as a QR code.
func TestGroupInviteShowsQRCode(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		gid := e.newTo1Group(t, group.Input{JoinPolicy: group.PolicyInvite})
		st, page := e.form(t, fmt.Sprintf("/groups/%d/invites", gid), e.token(t, phoneGroupHead), "days=7")
		m := inviteInput.FindStringSubmatch(page)
		if st != http.StatusOK || m == nil {
			t.Fatalf("create an invite: got %d without a link, want 200 and the link", st)
		}
		link := html.UnescapeString(m[1])
		if !strings.Contains(link, "/join/") {
			t.Fatalf("invite link: got %q, want …/join/TOKEN", link)
		}
		code, err := qr.Encode([]byte(link))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page, `<figure class="qr" id="invite-qr"`) || !strings.Contains(page, code.SVG()) {
			t.Fatalf("invite page: got no QR code of %q, want its SVG", link)
		}
		if strings.Contains(page[strings.Index(page, "<svg"):], "<script") {
			t.Fatal("QR code: got a script inside, want plain SVG")
		}
	})
}

// TestGroupSettingsTransferAndOrganisationGroups covers the settings form,
// handing ownership over so the owner can leave, and creating a group of
// one of the unit's organisations from the page.
func TestGroupSettingsTransferAndOrganisationGroups(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		gid := e.newTo1Group(t, group.Input{})
		admin, head, resident := e.token(t, phoneAdmin), e.token(t, phoneGroupHead), e.token(t, phoneResident)
		for _, tok := range []string{head, resident} {
			e.must(t, http.StatusOK, "GET", "/groups", tok, nil) // the tổ's people join its auto group
		}
		settings := fmt.Sprintf("/groups/%d/settings", gid)
		if st, _, _ := e.page(t, "GET", settings, resident, nil); st != http.StatusForbidden {
			t.Errorf("member opens settings: got %d, want 403", st)
		}
		if st, body, _ := e.page(t, "GET", settings, head, nil); st != http.StatusOK || !strings.Contains(body, `id="s-announce"`) {
			t.Errorf("head opens settings: got %d, want 200 with the form", st)
		}
		if st, body := e.form(t, settings, head, "name=&join_policy=auto"); st != http.StatusBadRequest || !strings.Contains(body, "Vui lòng nhập tên nhóm") {
			t.Errorf("empty name: got %d, want 400 with the message", st)
		}
		if st, _ := e.form(t, settings, head, "name=T%E1%BB%95+1+m%E1%BB%9Bi&description=Th%C3%B4ng+b%C3%A1o&join_policy=approval&announce_only=1"); st != http.StatusSeeOther {
			t.Fatalf("save settings: got %d, want 303", st)
		}
		g := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/groups/%d", gid), resident, nil)
		if g.str("name") != "Tổ 1 mới" || g.str("join_policy") != "approval" || g.get("announce_only").v != true || g.str("description") != "Thông báo" {
			t.Fatalf("after saving: got %v, want the new settings", g.v)
		}

		// The owner (the administrator who made it) hands it to the tổ head and leaves.
		e.must(t, http.StatusOK, "GET", fmt.Sprintf("/groups/%d", gid), admin, nil)
		headID := e.principal(t, phoneGroupHead).AccountID
		if st, _ := e.form(t, fmt.Sprintf("/groups/%d/members/%d", gid, headID), resident, "action=transfer"); st != http.StatusForbidden {
			t.Errorf("member hands over: got %d, want 403", st)
		}
		if _, body, _ := e.page(t, "GET", fmt.Sprintf("/groups/%d/members", gid), admin, nil); !strings.Contains(body, `value="transfer"`) {
			t.Errorf("owner's members page: got no transfer action, want one")
		}
		if st, _ := e.form(t, fmt.Sprintf("/groups/%d/members/%d", gid, headID), admin, "action=transfer"); st != http.StatusSeeOther {
			t.Fatalf("owner hands over: got %d, want 303", st)
		}
		if r := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/groups/%d", gid), head, nil); r.str("role") != "owner" {
			t.Fatalf("head's role: got %q, want owner", r.str("role"))
		}
		if st, _ := e.form(t, fmt.Sprintf("/groups/%d/leave", gid), admin, ""); st != http.StatusSeeOther {
			t.Fatalf("previous owner leaves: got %d, want 303", st)
		}
		// The JSON API does the same.
		e.must(t, http.StatusNoContent, "POST", fmt.Sprintf("/groups/%d/members/%d", gid, e.principal(t, phoneResident).AccountID), head, map[string]any{"action": "transfer"})
		if r := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/groups/%d", gid), resident, nil); r.str("role") != "owner" {
			t.Fatalf("resident's role after the API transfer: got %q, want owner", r.str("role"))
		}

		// An organisation's group from the page.
		fx := e.fixture(t)
		org, err := e.areas.CreateOrganisation(context.Background(), fx.admin, area.OrganisationInput{UnitID: fx.hhUnit[pTo1], Kind: area.OrgPartyCell, Name: fmt.Sprintf("Chi bộ thử %d", e.next())})
		if err != nil {
			t.Fatal(err)
		}
		if _, body, _ := e.page(t, "GET", "/groups", head, nil); !strings.Contains(body, html.EscapeString(org.Name)) {
			t.Fatalf("create form: got no %q, want it among the organisations", org.Name)
		}
		form := url.Values{"unit_id": {fmt.Sprint(fx.hhUnit[pTo1])}, "organisation_id": {fmt.Sprint(org.ID)}, "name": {"Nhóm chi bộ"}, "join_policy": {"invite"}}
		st, _ := e.form(t, "/groups", head, form.Encode())
		if st != http.StatusSeeOther {
			t.Fatalf("create an organisation's group: got %d, want 303", st)
		}
		var found bool
		for _, it := range e.must(t, http.StatusOK, "GET", "/groups", head, nil).list("items") {
			found = found || (it.str("name") == "Nhóm chi bộ" && it.num("organisation_id") == org.ID)
		}
		if !found {
			t.Fatalf("head's groups: got none of organisation %d, want the new one", org.ID)
		}
	})
}
