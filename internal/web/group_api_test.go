package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/group"
)

// memberToken signs in a fresh account that lives in Khu phố 1 › Tổ 1.
func (e *env) memberToken(t *testing.T) string {
	t.Helper()
	id := e.newAccount(t, account.RoleVolunteer, e.fixture(t).hhUnit[pTo1])
	return e.signIn(t, e.phoneOf(t, id))
}

func TestGroupReportedMessageHiddenForMembersInRealtime(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		gid := e.newTo1Group(t, group.Input{})
		author, reporter := e.memberToken(t), e.memberToken(t)
		police := e.token(t, phonePolice)
		for _, tok := range []string{author, reporter} {
			e.must(t, http.StatusOK, "GET", "/groups", tok, nil)
		}
		watch := e.openEvents(t, reporter, "", "", http.StatusOK)
		watch.next(t, "ready")
		m := e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/groups/%d/messages", gid), author, map[string]any{"body": "Bán thuốc chữa bách bệnh, liên hệ ngay"})
		mid := m.num("id")
		watch.next(t, "message")
		e.must(t, http.StatusNoContent, "POST", fmt.Sprintf("/groups/%d/messages/%d/report", gid, mid), reporter, map[string]any{"reason": "Lừa đảo"})
		if st, _ := e.do(t, "GET", fmt.Sprintf("/groups/%d/reports", gid), reporter, nil); st != http.StatusForbidden {
			t.Fatalf("member opens the queue: got %d, want 403", st)
		}
		queue := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/groups/%d/reports", gid), police, nil)
		if q := queue.list("items"); len(q) != 1 || q[0].num("message_id") != mid || q[0].str("reason") != "Lừa đảo" {
			t.Fatalf("queue: got %v, want the one report", queue.v)
		}
		e.must(t, http.StatusNoContent, "POST", fmt.Sprintf("/groups/%d/messages/%d/hide", gid, mid), police, map[string]any{"on": true})
		ev := watch.next(t, "hide")
		if !strings.Contains(string(ev.Data), fmt.Sprintf(`"id":%d`, mid)) {
			t.Fatalf("hide event: got %s, want message %d", ev.Data, mid)
		}
		list := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/groups/%d/messages", gid), reporter, nil)
		if n := len(list.list("items")); n != 0 {
			t.Fatalf("member's messages after hiding: got %d, want 0", n)
		}
		if q := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/groups/%d/reports", gid), police, nil); len(q.list("items")) != 0 {
			t.Fatalf("open reports after hiding: got %v, want none", q.v)
		}
		audit := e.must(t, http.StatusOK, "GET", "/audit?limit=200", e.token(t, phoneLeader), nil)
		if !strings.Contains(fmt.Sprint(audit.v), "group.message_hidden") {
			t.Fatal("audit: got no group.message_hidden entry, want one")
		}
	})
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGroupPhotoPostServedToMembersOnly(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		gid := e.newTo1Group(t, group.Input{})
		head, resident := e.token(t, phoneGroupHead), e.token(t, phoneResident)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("body", "Cống nghẹt trước nhà số 12")
		_ = mw.WriteField("lat", "10.772555")
		_ = mw.WriteField("lon", "106.692987")
		fw, _ := mw.CreateFormFile("photo", "IMG_0001.png")
		_, _ = fw.Write(pngBytes(t, 2400, 1200))
		_ = mw.Close()
		r := e.call(t, "POST", fmt.Sprintf("/groups/%d/messages", gid), head, body.Bytes(), mw.FormDataContentType(), "")
		if r.status != http.StatusCreated {
			t.Fatalf("post a photo: got %d %s, want 201", r.status, r.raw)
		}
		url := r.json.str("photo_url")
		if r.json.num("photo_width") != 1600 || r.json.num("photo_height") != 800 || !strings.HasPrefix(url, fmt.Sprintf("/groups/%d/photos/", gid)) {
			t.Fatalf("photo: got %s, want 1600x800 under the group", r.raw)
		}
		if lat, _ := r.json.get("lat").v.(float64); lat != 10.772555 {
			t.Fatalf("shared location: got %v, want 10.772555", r.json.get("lat").v)
		}
		st, img, _ := e.page(t, "GET", url, resident, nil)
		if st != http.StatusOK || !bytes.HasPrefix([]byte(img), []byte{0xFF, 0xD8}) {
			t.Fatalf("member gets the photo: got %d, want 200 and a JPEG", st)
		}
		if st, _, _ := e.page(t, "GET", url, e.token(t, phoneResidentOther), nil); st != http.StatusForbidden {
			t.Fatalf("outsider gets the photo: got %d, want 403", st)
		}
		bad := e.call(t, "POST", fmt.Sprintf("/groups/%d/messages", gid), head, []byte("--x\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n\r\nnot an image\r\n--x--\r\n"), "multipart/form-data; boundary=x", "")
		if bad.status != http.StatusBadRequest || bad.json.str("error.code") != "invalid" {
			t.Fatalf("a text file as a photo: got %d %s, want 400 invalid", bad.status, bad.raw)
		}
	})
}

var untranslated = regexp.MustCompile(`\b(group|flash|nav)\.[a-z_]+\b`)

func TestGroupPagesRender(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		gid := e.newTo1Group(t, group.Input{Name: "Tổ 1 — trang thử"})
		head, resident := e.token(t, phoneGroupHead), e.token(t, phoneResident)
		m := e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/groups/%d/messages", gid), head, map[string]any{"body": "Họp tổ 19 giờ tối thứ Bảy"})
		e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/groups/%d/messages", gid), resident, map[string]any{"body": "Dạ", "reply_to": m.num("id")})
		for _, c := range []struct {
			path, token, want string
		}{
			{"/groups", resident, "Tổ 1 — trang thử"},
			{fmt.Sprintf("/groups/%d", gid), resident, "Họp tổ 19 giờ tối thứ Bảy"},
			{fmt.Sprintf("/groups/%d/messages/%d", gid, m.num("id")), resident, "Dạ"},
			{fmt.Sprintf("/groups/%d/members", gid), resident, "Thành viên"},
			{fmt.Sprintf("/groups/%d/invites", gid), head, "Tạo đường dẫn mời"},
			{fmt.Sprintf("/groups/%d/moderation", gid), head, "Không có báo cáo"},
			{fmt.Sprintf("/groups/%d/settings", gid), head, "Cài đặt nhóm"},
			{"/groups/search?q=hop+to", resident, "Họp tổ 19 giờ"},
		} {
			st, body, _ := e.page(t, "GET", c.path, c.token, nil)
			if st != http.StatusOK || !strings.Contains(body, c.want) {
				t.Errorf("GET %s: got %d, want 200 with %q", c.path, st, c.want)
			}
			if k := untranslated.FindString(body); k != "" {
				t.Errorf("GET %s: untranslated key %s", c.path, k)
			}
		}
		if st, _, _ := e.page(t, "GET", fmt.Sprintf("/groups/%d/moderation", gid), resident, nil); st != http.StatusForbidden {
			t.Errorf("member opens moderation: got %d, want 403", st)
		}
	})
}
