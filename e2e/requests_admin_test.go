package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/trothu/trothu/internal/db"
)

// TestRequestTypeFieldInBrowser: an administrator opens the noise type,
// adds an extra field with the editor (a single-choice list), moves it
// with the arrows and saves; a resident opening the intake form for that
// type then sees the new question with its choices.
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
		})
	}
}
