package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/demo"
)

// TestNoticeFlow: an official sends an urgent notice to Khu phố 1; a
// resident finds it in the inbox and acknowledges; the reach shows it; the
// group head records a proxy acknowledgement and the unreached list
// shrinks; the list prints and exports.
func TestNoticeFlow(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		ward := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		kp1 := e.child(t, ward.ID, "Khu phố 1")
		official, resident, head := e.token(t, phoneOfficial), e.token(t, phoneResident), e.token(t, phoneGroupHead)

		// Other tests add households to the shared demo ward: the counts
		// are checked against each other, not against the seed's 150.
		pv := e.must(t, http.StatusOK, "POST", "/notices/preview", official, map[string]any{"unit_id": kp1.ID})
		total := pv.num("households")
		if total < 150 {
			t.Errorf("preview of Khu phố 1: got %d households, want at least the seeded 150", total)
		}
		n := e.must(t, http.StatusCreated, "POST", "/notices", official, map[string]any{"unit_id": kp1.ID, "title": "Khẩn: cúp nước", "body": "Cúp nước toàn khu phố từ 8 giờ.",
			"priority": "urgent", "ack_required": true})
		id := n.num("id")
		if n.num("targeted") != total {
			t.Errorf("targeted: got %d, want the preview's %d", n.num("targeted"), total)
		}
		r := e.call(t, "POST", "/notices", official, map[string]any{"unit_id": kp1.ID, "title": "", "body": "x"}, "", "")
		if r.status != http.StatusBadRequest || r.json.str("error.code") != "invalid" || !strings.Contains(r.json.str("error.message"), "Tiêu đề") {
			t.Errorf("empty title: got %d %s, want 400 with a Vietnamese message", r.status, r.raw)
		}
		// A PDF is attached; a text file is refused.
		pdf, ct := pdfUpload(t)
		if r := e.call(t, "POST", fmt.Sprintf("/notices/%d/attachments", id), official, pdf, ct, ""); r.status != http.StatusCreated || r.json.str("content_type") != "application/pdf" {
			t.Errorf("attach a PDF: got %d %s, want 201 application/pdf", r.status, r.raw)
		}
		bad := strings.Replace(string(pdf), "%PDF-1.4", "hello, plain text", 1)
		if r := e.call(t, "POST", fmt.Sprintf("/notices/%d/attachments", id), official, []byte(bad), ct, ""); r.status != http.StatusBadRequest {
			t.Errorf("attach a text file: got %d, want 400", r.status)
		}
		in := e.must(t, http.StatusOK, "GET", "/notices/inbox", resident, nil)
		if in.num("items.0.id") != id {
			t.Fatalf("inbox: got %v, want notice %d first", in.v, id)
		}
		ack := e.must(t, http.StatusOK, "POST", fmt.Sprintf("/notices/%d/ack", id), resident, nil)
		if ack.str("acked_at") == "" || ack.str("ack_name") == "" {
			t.Errorf("ack: got %v, want who and when", ack.v)
		}
		reach := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/notices/%d/reach", id), official, nil)
		for _, k := range []string{"targeted", "delivered", "seen", "acknowledged", "by_unit"} {
			if !reach.has(k) {
				t.Errorf("reach: got %s, want the key %q", reach.v, k)
			}
		}
		if reach.num("targeted") != total || reach.num("acknowledged") != 1 || len(reach.list("by_unit")) < 4 || reach.str("by_unit.0.name") != "Khu phố 1" {
			t.Errorf("reach: got %v, want %d targeted, 1 acknowledged, Khu phố 1 and its tổ", reach.v, total)
		}
		var to1 int64
		for _, u := range reach.list("by_unit") {
			if u.str("name") == "Tổ 1" {
				to1 = u.num("targeted")
			}
		}
		before := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/notices/%d/unreached?limit=1000", id), head, nil).list("items")
		if int64(len(before)) != to1-1 {
			t.Fatalf("group head's unreached: got %d, want %d (Tổ 1 less the resident's household)", len(before), to1-1)
		}
		hid := before[0].num("household_id")
		e.must(t, http.StatusOK, "POST", fmt.Sprintf("/notices/%d/households/%d/ack", id, hid), head, map[string]string{"note": "Đã báo trực tiếp"})
		after := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/notices/%d/unreached?limit=1000", id), head, nil).list("items")
		if len(after) != len(before)-1 {
			t.Errorf("after the proxy acknowledgement: got %d unreached, want %d", len(after), len(before)-1)
		}
		if r := e.call(t, "POST", fmt.Sprintf("/notices/%d/households/%d/ack", id, hid), head, map[string]string{}, "", ""); r.status != http.StatusConflict {
			t.Errorf("second proxy acknowledgement: got %d, want 409", r.status)
		}

		// Pages: the printable list, the exports, the service worker.
		status, body, _ := e.page(t, "GET", fmt.Sprintf("/notices/%d/unreached", id), head, nil)
		if status != http.StatusOK || !strings.Contains(body, "Hộ chưa nhận thông báo") || strings.Count(body, "<tr id=\"hh-") != len(after) {
			t.Errorf("unreached page: got %d with %d rows, want 200 and %d", status, strings.Count(body, "<tr id=\"hh-"), len(after))
		}
		if strings.Contains(body, ">notice.") {
			t.Errorf("unreached page shows an untranslated key")
		}
		status, body, hdr := e.page(t, "GET", fmt.Sprintf("/notices/%d/unreached.xlsx", id), head, nil)
		if status != http.StatusOK || !strings.HasPrefix(body, "PK") || !strings.Contains(hdr.Get("Content-Type"), "spreadsheetml") {
			t.Errorf("xlsx: got %d %q, want a zip", status, hdr.Get("Content-Type"))
		}
		status, body, _ = e.page(t, "GET", fmt.Sprintf("/notices/%d/unreached.csv", id), head, nil)
		if status != http.StatusOK || !strings.HasPrefix(body, "\ufeff") || strings.Count(body, "\n") != len(after)+1 {
			t.Errorf("csv: got %d with %d lines, want 200, BOM, header + %d", status, strings.Count(body, "\n"), len(after))
		}
		status, body, _ = e.page(t, "GET", fmt.Sprintf("/notices/%d", id), resident, nil)
		if status != http.StatusOK || !strings.Contains(body, `id="ack-done"`) {
			t.Errorf("resident's notice page: got %d, want the acknowledgement shown", status)
		}
		v := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/notices/%d", id), resident, nil)
		status, _, hdr = e.page(t, "GET", fmt.Sprintf("/notices/%d/attachments/%d", id, v.num("attachments.0.id")), resident, nil)
		if status != http.StatusOK || hdr.Get("Content-Type") != "application/pdf" {
			t.Errorf("resident downloads the attachment: got %d %q, want 200 application/pdf", status, hdr.Get("Content-Type"))
		}
		status, _, hdr = e.page(t, "GET", "/sw.js", "", nil)
		if status != http.StatusOK || hdr.Get("Service-Worker-Allowed") != "/" || !strings.Contains(hdr.Get("Content-Type"), "javascript") {
			t.Errorf("/sw.js: got %d %v, want 200, javascript, Service-Worker-Allowed: /", status, hdr)
		}
		for _, path := range []string{"/notices", "/notices/new", fmt.Sprintf("/notices/%d/reach", id), fmt.Sprintf("/units/%d/notices", kp1.ID)} {
			status, body, _ := e.page(t, "GET", path, official, nil)
			if status != http.StatusOK || strings.Contains(body, ">notice.") {
				t.Errorf("%s: got %d (untranslated key: %v), want 200", path, status, strings.Contains(body, ">notice."))
			}
		}
	})
}

// TestMeEmail: an official sets, reads back and removes the address the
// announcements for their units are emailed to; a malformed one is refused.
func TestMeEmail(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		official := e.token(t, phoneOfficial)
		got := e.must(t, http.StatusOK, "POST", "/me/email", official, map[string]string{"email": " can-bo@phuong.example.vn "})
		if got.str("email") != "can-bo@phuong.example.vn" {
			t.Errorf("set email: got %v, want can-bo@phuong.example.vn", got.v)
		}
		if p := e.must(t, http.StatusOK, "GET", "/me/notify-prefs", official, nil); p.str("email") != "can-bo@phuong.example.vn" {
			t.Errorf("prefs after setting the email: got %v, want email can-bo@phuong.example.vn", p.v)
		}
		r := e.call(t, "POST", "/me/email", official, map[string]string{"email": "can-bo at phuong"}, "", "")
		if r.status != http.StatusBadRequest || r.json.str("error.code") != "invalid" || !strings.Contains(r.json.str("error.message"), "email") {
			t.Errorf("malformed email: got %d %s, want 400 invalid with a Vietnamese message", r.status, r.raw)
		}
		if got := e.must(t, http.StatusOK, "POST", "/me/email", official, map[string]string{"email": ""}); got.str("email") != "" {
			t.Errorf("remove email: got %v, want empty", got.v)
		}
	})
}

// TestAccountPageEmail: the account page sets the email address; a
// malformed one is shown back as an error.
func TestAccountPageEmail(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tok := e.signIn(t, phoneGroupHead)
		if code, body, _ := e.page(t, "GET", "/account", tok, nil); code != http.StatusOK || !strings.Contains(body, `action="/account/email"`) {
			t.Fatalf("GET /account: got %d, want 200 with the email form", code)
		}
		if code, body := e.form(t, "/account/email", tok, "email=khong-hop-le"); code == http.StatusSeeOther || !strings.Contains(body, "Địa chỉ email không hợp lệ") {
			t.Errorf("malformed email: got %d, want the page with the error", code)
		}
		if code, _ := e.form(t, "/account/email", tok, "email=to-truong%40example.vn"); code != http.StatusSeeOther {
			t.Fatalf("POST /account/email: got %d, want 303", code)
		}
		if _, body, _ := e.page(t, "GET", "/account?msg=email_set", tok, nil); !strings.Contains(body, `value="to-truong@example.vn"`) || !strings.Contains(body, "Đã lưu địa chỉ email") {
			t.Errorf("account page after saving: want the address and the saved message shown")
		}
	})
}
