package e2e

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trothu/trothu/internal/db"
)

var requestInURL = regexp.MustCompile(`/requests/(\d+)`)

// TestRequestsInBrowser: a resident reports illegal construction at a
// point in the demo ward and sees, before sending, who will handle it; the
// report lands in the ward's queue with the urban-order team; an official
// takes it, replies and resolves it; the resident confirms and rates it.
// Then the neighbourhood head finds the demo's untouched noise report
// escalated to Khu phố 1 and marked overdue: its deadlines passed and the
// binary's durable job queue escalated it.
func TestRequestsInBrowser(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			srv := startDemo(t, engine)
			base := srv.URL
			photo := testPhoto(t)

			resident := browser(t)
			signInAs(t, resident, base, "0900000010")
			do(t, resident, "choose the type",
				chromedp.Navigate(base+"/requests/new"),
				chromedp.Click(`a[data-type="xay_dung_trai_phep"]`),
				chromedp.WaitVisible("#r-desc"),
				chromedp.SendKeys("#r-lat", "10.772555"),
				chromedp.SendKeys("#r-lon", "106.692987"),
				chromedp.SendKeys("#r-address", "Cạnh số 48 Lê Lợi"),
				chromedp.SendKeys("#r-desc", "Nhà bên cạnh đang đổ sàn tầng 5, không treo giấy phép xây dựng."),
				chromedp.SetValue("#attr-stage", "frame"),
				chromedp.SetUploadFiles("#r-photo", []string{photo}),
				chromedp.Click("#r-preview"),
				chromedp.WaitVisible("#routing"),
			)
			routing := get(t, resident, "routing", chromedp.Text("#routing"))
			if !strings.Contains(routing, "Đội trật tự đô thị") || !strings.Contains(routing, "Bến Thành") {
				t.Fatalf("before sending: got %q, want Bến Thành's urban-order team", routing)
			}
			if kept := get(t, resident, "photo kept", chromedp.Text("#r-photos-kept")); !strings.HasPrefix(kept, "1 ") {
				t.Fatalf("preview: got %q, want 1 photo kept", kept)
			}
			do(t, resident, "send", chromedp.Click("#r-submit"), chromedp.WaitVisible("#request"), chromedp.WaitVisible("#timeline img.photo"))
			m := requestInURL.FindStringSubmatch(get(t, resident, "request URL", chromedp.Location()))
			if m == nil {
				t.Fatal("after sending: not on a request page")
			}
			reqURL := base + "/requests/" + m[1]

			official := browser(t)
			signInAs(t, official, base, "0900000002")
			do(t, official, "queue", chromedp.Navigate(base+"/requests/queue?type=xay_dung_trai_phep&status=new"), chromedp.WaitVisible("#requests"))
			q := get(t, official, "queue text", chromedp.Text("#requests"))
			if !strings.Contains(q, "#"+m[1]) || !strings.Contains(q, "Đội trật tự đô thị Phường Bến Thành") {
				t.Fatalf("ward queue: got %q, want #%s for the urban-order team", q, m[1])
			}
			do(t, official, "take it",
				chromedp.Navigate(reqURL),
				chromedp.Click("#assign-me"),
				chromedp.WaitVisible("#assignee"),
				chromedp.SetValue("#act-action", "reply"),
				chromedp.SendKeys("#act-body", "Đội trật tự đô thị sẽ kiểm tra trong ngày mai."),
				chromedp.Click("#act-submit"),
				chromedp.WaitVisible(`//ul[@id="timeline"]/li[contains(., "trong ngày mai")]`),
				chromedp.SetValue("#act-action", "resolve"),
				chromedp.SendKeys("#act-body", "Đã lập biên bản, đình chỉ thi công phần tầng 5."),
				chromedp.SetUploadFiles("#act-photo", []string{photo}),
				chromedp.Click("#act-submit"),
				chromedp.WaitVisible(`#status[data-status="resolved"]`),
			)

			do(t, resident, "confirm and rate",
				chromedp.Navigate(reqURL),
				chromedp.WaitVisible("#timeline"),
			)
			tl := get(t, resident, "timeline", chromedp.Text("#timeline"))
			if !strings.Contains(tl, "kiểm tra trong ngày mai") || !strings.Contains(tl, "đình chỉ thi công") {
				t.Fatalf("resident's timeline: got %q, want the reply and the resolution", tl)
			}
			if n := get(t, resident, "photos", chromedp.Evaluate[int](`document.querySelectorAll("#timeline img.photo").length`)); n != 2 {
				t.Fatalf("photos on the timeline: got %d, want the report's and the after-photo", n)
			}
			do(t, resident, "confirm",
				chromedp.Click("#confirm"),
				chromedp.WaitVisible(`#status[data-status="closed"]`),
				chromedp.SetValue("#rate-stars", "5"),
				chromedp.SendKeys("#rate-comment", "Cảm ơn phường."),
				chromedp.Click("#rate"),
				chromedp.WaitVisible("#rating"),
			)
			if r := get(t, resident, "rating", chromedp.Text("#rating")); !strings.Contains(r, "5/5") {
				t.Fatalf("rating: got %q, want 5/5", r)
			}

			// Escalation, by the binary's own job queue.
			head := browser(t)
			signInAs(t, head, base, "0900000004")
			var text string
			for range 30 {
				do(t, head, "overdue queue", chromedp.Navigate(base+"/requests/queue?overdue=1&escalated=1"), chromedp.WaitVisible("main"))
				text = get(t, head, "overdue queue text", chromedp.Text("main"))
				if strings.Contains(text, "Loa kẹo kéo") {
					break
				}
				time.Sleep(time.Second) // the queue polls every second
			}
			if !strings.Contains(text, "Loa kẹo kéo") || !strings.Contains(text, "Quá hạn") || !strings.Contains(text, "Khu phố 1") {
				t.Fatalf("neighbourhood head's overdue, escalated queue: got %q, want the noise report escalated to Khu phố 1", text)
			}
		})
	}
}

// testPhoto writes a small PNG for uploads.
func testPhoto(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(5 * y), 90, 255})
		}
	}
	path := filepath.Join(t.TempDir(), "hien-truong.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}
