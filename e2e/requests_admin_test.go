package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trothu/trothu/internal/db"
)

// TestRequestTypeFieldInBrowser: an administrator opens the noise type,
// adds an extra field with the editor (a single-choice list), moves it
// with the arrows and saves; a resident opening the intake form for that
// type then sees the new question with its choices. Then, with the
// resident's "Thông báo về phản ánh" page open, an official acknowledges
// the resident's request and the notification appears without a reload.
func TestRequestTypeFieldInBrowser(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			srv := startDemo(t, engine)
			base := srv.URL

			admin := browser(t)
			signInAs(t, admin, base, "0900000001")
			last := `#fields li:last-child `
			do(t, admin, "open the noise type",
				chromedp.Navigate(base+"/"),
				chromedp.Click("#nav-req-admin"),
				chromedp.WaitVisible("#types"),
				chromedp.Click(`a[data-code="tieng_on"]`),
				chromedp.WaitVisible("#type-form"),
				chromedp.WaitVisible("#field-add"), // the editor's script is on
			)
			before := get(t, admin, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#fields [data-field]").length`))
			do(t, admin, "add a field",
				chromedp.Click("#field-add"),
				chromedp.SendKeys(last+`input[data-f=label]`, "Thời điểm ồn"),
				chromedp.SetValue(last+`select[data-f=datatype]`, "singlevaluelist"),
				chromedp.SetValue(last+`textarea[data-f=values]`, "dem = Ban đêm (sau 22 giờ)\nngay = Ban ngày"),
				chromedp.Click(last+`[data-move="-1"]`), // above the blank row
			)
			rows := get(t, admin, "rows after adding", chromedp.Evaluate[[]string](
				`Array.from(document.querySelectorAll("#fields [data-field]")).map(function (r) { return r.querySelector("[data-f=order]").value + ":" + r.querySelector("[data-f=label]").value; })`))
			if len(rows) != before+1 || rows[len(rows)-2] != strconv.Itoa(len(rows)-1)+":Thời điểm ồn" {
				t.Fatalf("editor rows: got %q, want the new field second to last, numbered", rows)
			}
			do(t, admin, "save", chromedp.Click("#type-save"), chromedp.WaitVisible(".alert.ok"))
			if v := get(t, admin, "saved values", chromedp.Value(`textarea[data-f=values]`)); !strings.Contains(v, "dem = Ban đêm") {
				t.Fatalf("after saving: values %q, want the list kept", v)
			}

			resident := browser(t)
			signInAs(t, resident, base, "0900000010")
			do(t, resident, "intake form",
				chromedp.Navigate(base+"/requests/new"),
				chromedp.Click(`a[data-type="tieng_on"]`),
				chromedp.WaitVisible("#r-desc"),
				chromedp.WaitVisible("#attr-thoi_diem_on"),
			)
			label := get(t, resident, "label", chromedp.Text(`label[for="attr-thoi_diem_on"]`))
			opts := get(t, resident, "choices", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#attr-thoi_diem_on option")).map(function (o) { return o.textContent; })`))
			if !strings.Contains(label, "Thời điểm ồn") || len(opts) != 3 || opts[1] != "Ban đêm (sau 22 giờ)" || opts[2] != "Ban ngày" {
				t.Fatalf("intake form: label %q choices %q, want the new question with its two choices", label, opts)
			}

			// The resident's notifications page takes a new one live.
			do(t, resident, "notifications page", chromedp.Navigate(base+"/requests/notifications"), chromedp.WaitVisible("#rn-live"))
			// The resident files a request through the API with the page's
			// own session (a second one-time code would be rate-limited).
			id := get(t, resident, "file a request", chromedp.Evaluate[int](`fetch("/api/v1/requests", {method: "POST", credentials: "same-origin",
				headers: {"Content-Type": "application/json"}, body: JSON.stringify({type: "gop_y_khac", description: "Đề nghị sửa đèn đường hẻm 7 Lê Lợi."})})
				.then(function (r) { return r.json(); }).then(function (j) { return j.id; })`, chromedp.EvalAwaitPromise))
			if id == 0 {
				t.Fatal("filing a request from the page: no id")
			}
			otok := apiSignIn(t, base, "0900000002")
			time.Sleep(time.Second) // the page's event stream is open by now
			apiJSON(t, "POST", fmt.Sprintf("%s/api/v1/requests/%d/actions", base, id), otok, map[string]any{"action": "acknowledge"}, nil)
			do(t, resident, "the new notification, without reloading",
				chromedp.WaitVisible(fmt.Sprintf(`#rn-list li.rn-unread a[href$="?r=%d"]`, id)),
				chromedp.WaitVisible("#req-unread"),
			)
			if txt := get(t, resident, "item", chromedp.Text(fmt.Sprintf(`a[href$="?r=%d"]`, id))); !strings.Contains(txt, "Trạng thái mới: Đã tiếp nhận") {
				t.Fatalf("live notification: got %q", txt)
			}
		})
	}
}
