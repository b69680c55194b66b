package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/workcal"
)

// TestRequestAdminPagesRefuseOthers checks that every administration page
// and form answers only administrators of requests.
func TestRequestAdminPagesRefuseOthers(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		pages := map[string]string{
			"/admin/request-types":                    "Xây dựng trái phép",
			"/admin/request-types/new":                "Thêm loại phản ánh",
			"/admin/request-types/xay_dung_trai_phep": "Giai đoạn thi công",
			"/admin/request-calendar":                 "Giỗ Tổ Hùng Vương",
			"/admin/open311-keys":                     "Khoá API Open311",
			"/admin/request-territory":                "Địa bàn tiếp nhận",
		}
		// Fresh sessions: another test may sign a demo account out everywhere.
		others := map[string]string{}
		for _, who := range []string{phoneOfficial, phoneLeader, phoneResident} {
			others[who] = e.signIn(t, who)
		}
		for path, want := range pages {
			code, body, _ := e.page(t, "GET", path, e.token(t, phoneAdmin), nil)
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("administrator GET %s: got %d, want 200 with %q", path, code, want)
			}
			for who, tok := range others {
				if code, body, _ := e.page(t, "GET", path, tok, nil); code != http.StatusForbidden || !strings.Contains(body, "không có quyền") {
					t.Errorf("%s GET %s: got %d, want 403 with the Vietnamese refusal", who, path, code)
				}
			}
			if code, _, hdr := e.page(t, "GET", path, "", nil); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/signin") {
				t.Errorf("anonymous GET %s: got %d to %q, want the sign-in page", path, code, hdr.Get("Location"))
			}
		}
		for path, body := range map[string]string{
			"/admin/request-types":     "new=1&code=khong_duoc&name=Không+được&org_kind=ward_office&ack_hours=1&resolve_hours=2&urgent_ack_hours=1&urgent_resolve_hours=2",
			"/admin/request-calendar":  "hours_mon=07:00-11:00",
			"/admin/open311-keys":      "name=Khoá+lậu",
			"/admin/request-territory": "codes=01",
		} {
			if code, _ := e.form(t, path, others[phoneOfficial], body); code != http.StatusForbidden {
				t.Errorf("official POST %s: got %d, want 403", path, code)
			}
		}
		if _, err := e.app.Requests.TypeByCode(context.Background(), "khong_duoc"); err == nil {
			t.Errorf("the refused type was saved")
		}
		// Administrators find the pages from the layout; others do not.
		if _, body, _ := e.page(t, "GET", "/requests", e.token(t, phoneAdmin), nil); !strings.Contains(body, `href="/admin/request-types"`) {
			t.Errorf("administrator's layout lacks the link to the request administration")
		}
		if _, body, _ := e.page(t, "GET", "/requests", others[phoneOfficial], nil); strings.Contains(body, `href="/admin/request-types"`) {
			t.Errorf("official's layout links to the request administration")
		}
	})
}

// TestRequestTypeEditorRoundTrip saves a new service type with extra
// fields through the form, reads it back, and checks the Vietnamese
// validation messages.
func TestRequestTypeEditorRoundTrip(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.token(t, phoneAdmin)
		code := fmt.Sprintf("cay_do_%d", e.next())
		form := url.Values{"new": {"1"}, "code": {code}, "name": {"Cây xanh gãy đổ"}, "name_en": {"Fallen tree"}, "group": {"Hạ tầng"},
			"org_kind": {"ward_office"}, "public_default": {"1"}, "location_required": {"1"}, "active": {"1"},
			"ack_hours": {"4"}, "resolve_hours": {"24"}, "urgent_ack_hours": {"1"}, "urgent_resolve_hours": {"4"}, "sort": {"200"},
			// Two fields, the second listed first by its order; the third row is blank.
			"f_label":       {"Mức độ", "Đường kính thân (cm)", ""},
			"f_code":        {"muc_do", "", ""},
			"f_datatype":    {"singlevaluelist", "number", "string"},
			"f_required":    {"1", "0", "0"},
			"f_order":       {"2", "1", "3"},
			"f_label_en":    {"Severity", "", ""},
			"f_description": {"", "", ""},
			"f_values":      {"nghieng = Cây nghiêng\r\ngay = Đã gãy, chắn đường", "", ""},
		}
		if c, body := e.form(t, "/admin/request-types", admin, form.Encode()); c != http.StatusSeeOther {
			t.Fatalf("save: got %d: %s", c, errorOf(body))
		}
		ty, err := e.app.Requests.TypeByCode(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		if len(ty.Fields) != 2 || ty.Fields[0].Code != "duong_kinh_than_cm" || ty.Fields[1].Code != "muc_do" || !ty.Fields[1].Required ||
			len(ty.Fields[1].Values) != 2 || ty.Fields[1].Values[1] != (request.FieldValue{Key: "gay", Name: "Đã gãy, chắn đường"}) {
			t.Errorf("saved fields: got %+v", ty.Fields)
		}
		if ty.Name != "Cây xanh gãy đổ" || ty.AckHours != 4 || ty.OrgKind != request.OrgWardOffice || !ty.Active || ty.AnonymousAllowed {
			t.Errorf("saved type: got %+v", ty)
		}
		c, body, _ := e.page(t, "GET", "/admin/request-types/"+code, admin, nil)
		if c != http.StatusOK || !strings.Contains(body, "gay = Đã gãy, chắn đường") || !strings.Contains(body, `value="Đường kính thân (cm)"`) {
			t.Errorf("edit page: got %d, want the fields and their values", c)
		}
		// Remove the number field (cleared row) and save: one field left.
		form.Del("new")
		form["f_label"] = []string{"Mức độ", ""}
		form["f_code"] = []string{"muc_do", ""}
		form["f_datatype"] = []string{"singlevaluelist", "number"}
		form["f_required"] = []string{"1", "0"}
		form["f_order"] = []string{"1", "2"}
		form["f_values"] = []string{"nghieng = Cây nghiêng", ""}
		if c, body := e.form(t, "/admin/request-types", admin, form.Encode()); c != http.StatusSeeOther {
			t.Fatalf("second save: got %d: %s", c, errorOf(body))
		}
		if ty, _ = e.app.Requests.TypeByCode(context.Background(), code); len(ty.Fields) != 1 || len(ty.Fields[0].Values) != 1 {
			t.Errorf("after removing a field: got %+v", ty.Fields)
		}
		var n int
		if err := e.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = ? AND subject_id = ?", request.AuditType, code).Scan(&n); err != nil || n != 2 {
			t.Errorf("audit entries of the type: got %d (%v), want 2", n, err)
		}

		bad := func(name string, change func(v url.Values), want string) {
			t.Helper()
			v := url.Values{}
			for k, x := range form {
				v[k] = append([]string(nil), x...)
			}
			v.Set("new", "1")
			v.Set("code", fmt.Sprintf("loai_%d", e.next()))
			change(v)
			c, body := e.form(t, "/admin/request-types", admin, v.Encode())
			if c != http.StatusBadRequest || !strings.Contains(errorOf(body), want) {
				t.Errorf("%s: got %d %q, want 400 with %q", name, c, errorOf(body), want)
			}
			if c == http.StatusBadRequest && !strings.Contains(body, `value="Mức độ"`) {
				t.Errorf("%s: the form lost what was typed", name)
			}
		}
		bad("code with diacritics", func(v url.Values) { v.Set("code", "cây đổ") }, "Mã loại chỉ gồm chữ thường không dấu")
		bad("existing code", func(v url.Values) { v.Set("code", code) }, "Đã có loại yêu cầu mã")
		bad("no name", func(v url.Values) { v.Set("name", " ") }, "Vui lòng nhập tên loại yêu cầu")
		bad("list without values", func(v url.Values) { v["f_values"] = []string{"", ""} }, "Trường danh sách cần ít nhất một lựa chọn")
		bad("values on a number", func(v url.Values) { v["f_datatype"] = []string{"number", "number"} }, "không phải kiểu danh sách")
		bad("resolve before acknowledge", func(v url.Values) { v.Set("resolve_hours", "2") }, "không được ngắn hơn thời hạn tiếp nhận")
		bad("two fields with one code", func(v url.Values) {
			v["f_label"], v["f_code"], v["f_datatype"] = []string{"Mức độ", "Mức độ 2"}, []string{"muc_do", "muc_do"}, []string{"singlevaluelist", "string"}
		}, "không trùng nhau")
	})
}

var alertRe = regexp.MustCompile(`(?s)<div class="alert error" role="alert"[^>]*>(.*?)</div>`)

// errorOf returns the error shown on a form page.
func errorOf(body string) string {
	if m := alertRe.FindStringSubmatch(body); m != nil {
		return strings.TrimSpace(m[1])
	}
	return ""
}

// TestRequestCalendarPage saves office hours, extra days off and make-up
// days through the form and previews the year's holidays, the lunar ones
// included; malformed input is refused in Vietnamese.
func TestRequestCalendarPage(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.token(t, phoneAdmin)
		before, err := e.app.Requests.CalendarConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { // the shared server's calendar, as it was
			if _, err := e.app.Requests.SaveCalendar(ctx, e.principal(t, phoneAdmin), before); err != nil {
				t.Error(err)
			}
		}()
		for _, c := range []struct{ body, want string }{
			{"hours_mon=s%C3%A1ng", "Giờ làm việc Thứ Hai “sáng” không đúng dạng"},
			{"hours_tue=17:00-13:00", "giờ bắt đầu phải trước giờ kết thúc"},
			{"", "Cần ít nhất một ngày làm việc"},
			{"hours_mon=07:30-11:30&extra_days_off=31/02/2031", "ngày “31/02/2031” không đúng dạng"},
			{"hours_mon=07:30-11:30&extra_days_off=04/01/2031&make_up_days=04/01/2031", "vừa là ngày nghỉ thêm vừa là ngày làm bù"},
		} {
			if code, body := e.form(t, "/admin/request-calendar", admin, c.body); code != http.StatusBadRequest || !strings.Contains(errorOf(body), c.want) {
				t.Errorf("POST %q: got %d %q, want 400 with %q", c.body, code, errorOf(body), c.want)
			}
		}
		day := "07:30-11:30, 13:00-17:00"
		v := url.Values{"hours_mon": {day}, "hours_tue": {day}, "hours_wed": {day}, "hours_thu": {day}, "hours_fri": {"7h30-11h30, 13h-16h30"},
			"extra_days_off": {"03/01/2031\n02/01/2031"}, "make_up_days": {"11/01/2031"}, "september_adjacent": {"after"}}
		if code, body := e.form(t, "/admin/request-calendar", admin, v.Encode()); code != http.StatusSeeOther {
			t.Fatalf("save: got %d %q", code, errorOf(body))
		}
		cfg, err := e.app.Requests.CalendarConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cfg.Hours["fri"], ","); got != "07:30-11:30,13:00-16:30" || len(cfg.ExtraDaysOff) != 2 || cfg.ExtraDaysOff[0] != "2031-01-02" ||
			cfg.MakeUpWorkingDays[0] != "2031-01-11" || cfg.SeptemberAdjacent != "after" || len(cfg.Hours["sat"]) != 0 {
			t.Errorf("saved calendar: got %+v", cfg)
		}
		code, body, _ := e.page(t, "GET", "/admin/request-calendar?year=2031", admin, nil)
		hung := workcal.HungKings(2031).Format("02/01/2006")
		tet := workcal.Tet(2031).Format("02/01/2006")
		for _, want := range []string{hung + "</td><td>Giỗ Tổ Hùng Vương", tet + "</td><td>Tết Nguyên đán (mùng 1)", "03/09/2031</td><td>Quốc khánh (ngày liền kề)",
			"02/01/2031</td><td>Nghỉ thêm", "11/01/2031</td><td>Làm bù", `value="07:30-11:30, 13:00-16:30"`} {
			if !strings.Contains(body, want) {
				t.Errorf("calendar page for 2031 (%d): lacks %q", code, want)
			}
		}
		var n int
		if err := e.db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = ?", request.AuditCalendar).Scan(&n); err != nil || n == 0 {
			t.Errorf("calendar changes audited: got %d (%v)", n, err)
		}
	})
}

// TestOpen311KeysPage makes a key (shown once), lists keys masked, and
// revokes one, after which Open311 refuses it.
func TestOpen311KeysPage(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.token(t, phoneAdmin)
		name := fmt.Sprintf("Cổng thử %d", e.next())
		if code, body := e.form(t, "/admin/open311-keys", admin, "name="); code != http.StatusBadRequest || !strings.Contains(errorOf(body), "Vui lòng đặt tên cho khoá") {
			t.Errorf("no name: got %d %q", code, errorOf(body))
		}
		code, body := e.form(t, "/admin/open311-keys", admin, url.Values{"name": {name}}.Encode())
		m := regexp.MustCompile(`id="new-key-value">([a-z2-7]+)<`).FindStringSubmatch(body)
		if code != http.StatusOK || m == nil {
			t.Fatalf("create: got %d, want the new key on the page", code)
		}
		key := m[1]
		if _, err := e.app.Requests.CheckAPIKey(context.Background(), key); err != nil {
			t.Fatalf("the shown key does not work: %v", err)
		}
		_, list, _ := e.page(t, "GET", "/admin/open311-keys", admin, nil)
		if strings.Contains(list, key) || !strings.Contains(list, name) {
			t.Errorf("key list: shows the secret %v, shows the name %v; want masked and named", strings.Contains(list, key), strings.Contains(list, name))
		}
		id := regexp.MustCompile(`<li data-key="(\d+)"><strong>` + regexp.QuoteMeta(name)).FindStringSubmatch(list)
		if id == nil {
			t.Fatal("the new key is not listed")
		}
		if code, _ := e.form(t, "/admin/open311-keys/"+id[1]+"/revoke", e.signIn(t, phoneOfficial), ""); code != http.StatusForbidden {
			t.Errorf("official revokes: got %d, want 403", code)
		}
		if code, _ := e.form(t, "/admin/open311-keys/"+id[1]+"/revoke", admin, ""); code != http.StatusSeeOther {
			t.Fatalf("revoke: got %d", code)
		}
		if _, err := e.app.Requests.CheckAPIKey(context.Background(), key); err == nil {
			t.Errorf("a revoked key still works")
		}
		_, list, _ = e.page(t, "GET", "/admin/open311-keys", admin, nil)
		if !regexp.MustCompile(regexp.QuoteMeta(name) + `</strong> <span class="code">[^<]*</span> <span class="tag">Đã thu hồi`).MatchString(list) {
			t.Errorf("key list after revoking: the key is not marked revoked")
		}
	})
}

// TestRequestTerritoryPage sets the deployment's territory; a point
// outside it then gets a clear answer, a point inside is routed.
func TestRequestTerritoryPage(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.token(t, phoneAdmin)
		defer func() { // every ward again, for the other tests
			if code, _ := e.form(t, "/admin/request-territory", admin, "codes="); code != http.StatusSeeOther {
				t.Errorf("reset: got %d", code)
			}
		}()
		if code, body := e.form(t, "/admin/request-territory", admin, "codes=79%2C+1234"); code != http.StatusBadRequest || !strings.Contains(errorOf(body), "“1234”") {
			t.Errorf("bad code: got %d %q", code, errorOf(body))
		}
		if code, body := e.form(t, "/admin/request-territory", admin, "codes=79"); code != http.StatusSeeOther {
			t.Fatalf("save: got %d %q", code, errorOf(body))
		}
		if _, body, _ := e.page(t, "GET", "/admin/request-territory", admin, nil); !strings.Contains(body, "Thành phố Hồ Chí Minh") {
			t.Errorf("territory page: lacks the province served")
		}
		res := e.call(t, "GET", "/requests/route?type=ha_tang&lat=21.0285&lon=105.8542", "", nil, "", "")
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.raw), "ngoài địa bàn") {
			t.Errorf("a point in Hà Nội: got %d %s, want 400 saying it is outside the territory", res.status, res.raw)
		}
		if r := e.call(t, "GET", "/requests/route?type=ha_tang&lat=10.772555&lon=106.692987", "", nil, "", ""); r.status != http.StatusOK {
			t.Errorf("a point in Bến Thành: got %d %s", r.status, r.raw)
		}
		// The same setting through the API.
		if got := e.must(t, http.StatusOK, "GET", "/request-territory", "", nil); got.str("units.0.code") != "79" || len(got.list("units")) != 1 {
			t.Errorf("GET /request-territory: got %v, want province 79", got.v)
		}
		if st, _ := e.do(t, "PUT", "/request-territory", e.signIn(t, phoneLeader), map[string]any{"codes": []string{}}); st != http.StatusForbidden {
			t.Errorf("a commune leader sets the territory: got %d, want 403", st)
		}
		if st, body := e.do(t, "PUT", "/request-territory", admin, map[string]any{"codes": []string{"7"}}); st != http.StatusBadRequest || !strings.Contains(body.str("error.message"), "“7”") {
			t.Errorf("PUT a bad code: got %d %v", st, body.v)
		}
	})
}

// TestRequestNotificationsPage follows a resident's notifications: the
// badge in the layout, the page (unread marked, newest first), opening one
// (marked read, on to the request), marking all read; and the realtime
// event on the account's topic when an official acts over HTTP.
func TestRequestNotificationsPage(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		resident, official := e.token(t, phoneResident2), e.token(t, phoneOfficial)
		if code, _, hdr := e.page(t, "GET", "/requests/notifications", "", nil); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/signin") {
			t.Errorf("anonymous: got %d %q, want the sign-in page", code, hdr.Get("Location"))
		}
		r := e.must(t, http.StatusCreated, "POST", "/requests", resident, map[string]any{"type": "gop_y_khac",
			"description": fmt.Sprintf("Đề nghị lắp thêm đèn ở hẻm %d.", e.next())})
		id := r.num("id")
		me := e.principal(t, phoneResident2)
		sub, err := e.app.Broker.Subscribe([]string{"account:" + strconv.FormatInt(me.AccountID, 10)}, "")
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		e.must(t, http.StatusOK, "POST", fmt.Sprintf("/requests/%d/actions", id), official, map[string]any{"action": "acknowledge"})
		e.must(t, http.StatusOK, "POST", fmt.Sprintf("/requests/%d/actions", id), official, map[string]any{"action": "reply", "body": "Phường đã ghi nhận, sẽ khảo sát."})
		for i := 0; i < 2; i++ {
			select {
			case ev := <-sub.C:
				if ev.Name != request.NoteEvent || !strings.Contains(string(ev.Data), fmt.Sprintf(`"request_id":%d`, id)) {
					t.Errorf("event %d: got %s %s", i, ev.Name, ev.Data)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("event %d: none on the resident's topic", i)
			}
		}
		code, body, _ := e.page(t, "GET", "/requests/notifications", resident, nil)
		if code != http.StatusOK {
			t.Fatalf("page: got %d", code)
		}
		if !strings.Contains(body, `id="push-enable" data-vapid="`) {
			t.Errorf("page: lacks the button that turns push on for this phone")
		}
		items := regexp.MustCompile(`(?s)<li class="(rn-unread)?" data-note="(\d+)">\s*<a class="item" href="/requests/notifications/open/\d+\?r=(\d+)">(.*?)</a>`).FindAllStringSubmatch(body, -1)
		if len(items) < 2 || items[0][3] != itoa64(id) || items[1][3] != itoa64(id) {
			t.Fatalf("page: got %d items, want the two newest about request %d", len(items), id)
		}
		if items[0][1] != "rn-unread" || !strings.Contains(items[0][4], "Cơ quan xử lý đã trả lời.") || !strings.Contains(items[1][4], "Trạng thái mới: Đã tiếp nhận") {
			t.Errorf("newest first, unread: got %q / %q", items[0][4], items[1][4])
		}
		badge := regexp.MustCompile(`id="req-unread"[^>]*>(\d+)<`).FindStringSubmatch(body)
		if badge == nil {
			t.Fatalf("layout: no unread badge")
		}
		// Opening one marks it read and goes to the request.
		code, _, hdr := e.page(t, "GET", "/requests/notifications/open/"+items[0][2]+"?r="+items[0][3], resident, nil)
		if code != http.StatusSeeOther || hdr.Get("Location") != fmt.Sprintf("/requests/%d", id) {
			t.Errorf("open: got %d to %q", code, hdr.Get("Location"))
		}
		_, body, _ = e.page(t, "GET", "/requests/notifications", resident, nil)
		if strings.Contains(body, `<li class="rn-unread" data-note="`+items[0][2]+`"`) || !strings.Contains(body, `<li class="rn-unread" data-note="`+items[1][2]+`"`) {
			t.Errorf("after opening the newest: it should be read, the other still unread")
		}
		after := regexp.MustCompile(`id="req-unread"[^>]*>(\d+)<`).FindStringSubmatch(body)
		if n0, _ := strconv.Atoi(badge[1]); after == nil && n0 != 1 || after != nil && after[1] != strconv.Itoa(n0-1) {
			t.Errorf("badge: got %v after %s, want one less", after, badge[1])
		}
		// Someone else cannot mark it.
		if code, _ := e.form(t, "/requests/notifications/read", official, "id="+items[1][2]); code != http.StatusSeeOther {
			t.Errorf("official marks another's: got %d", code)
		}
		if _, body, _ = e.page(t, "GET", "/requests/notifications", resident, nil); !strings.Contains(body, `<li class="rn-unread" data-note="`+items[1][2]+`"`) {
			t.Errorf("another account marked the resident's notification read")
		}
		if code, _ := e.form(t, "/requests/notifications/read", resident, ""); code != http.StatusSeeOther {
			t.Errorf("mark all: got %d", code)
		}
		_, body, _ = e.page(t, "GET", "/requests/notifications", resident, nil)
		if strings.Contains(body, "rn-unread") || strings.Contains(body, `id="req-unread"`) || !strings.Contains(body, "Bạn đã đọc hết thông báo.") {
			t.Errorf("after marking all read: unread items or a badge remain")
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
