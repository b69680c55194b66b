package e2e

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/trothu/trothu/internal/db"
)

var reachURL = regexp.MustCompile(`/notices/(\d+)/reach`)

// TestNoticeInBrowser is the announcements' headline flow: a commune
// official sends an urgent announcement to Khu phố 1; a resident, with the
// inbox already open, receives it live and acknowledges; the official's
// reach page updates by itself; the residential-group head records "told
// in person" for a household without a smartphone; the unreached list
// shrinks and prints on A4.
func TestNoticeInBrowser(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			srv := startDemo(t, engine)
			base := srv.URL

			resident := browser(t)
			signInAs(t, resident, base, "0900000010")
			do(t, resident, "open the inbox", chromedp.Navigate(base+"/notices"), chromedp.WaitVisible("#inbox"))
			// The inbox listens on /events; its fallback poll is slow, so
			// what arrives within 2 s below came over the stream.
			if poll := get(t, resident, "fallback poll", chromedp.Evaluate[string](`document.querySelector("#inbox").dataset.poll`)); poll != "30" {
				t.Fatalf("inbox fallback poll: got %q s, want 30", poll)
			}
			if _, err := chromedp.Run(resident, chromedp.Poll[bool](`window.trothuParts.inbox.connected()`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
				t.Fatalf("inbox stream did not open: %v", err)
			}

			official := browser(t)
			signInAs(t, official, base, "0900000002")
			do(t, official, "compose", chromedp.Navigate(base+"/notices/new"), chromedp.WaitVisible("#n-unit"))
			kp := get(t, official, "Khu phố 1 option", chromedp.Evaluate[string](
				`[...document.querySelectorAll('#n-unit option')].find(o => o.textContent.trim() === 'Khu phố 1').value`))
			do(t, official, "preview", chromedp.SetValue("#n-unit", kp), chromedp.Click("#preview-button"), chromedp.WaitVisible("#preview"))
			if p := get(t, official, "preview text", chromedp.Text("#preview")); !strings.Contains(p, "150") {
				t.Fatalf("preview: got %q, want 150 households", p)
			}
			do(t, official, "send",
				chromedp.SendKeys("#n-title", "Khẩn: cúp nước ngày mai"),
				chromedp.SendKeys("#n-body", "Khu phố 1 cúp nước từ 8 giờ đến 14 giờ. Bà con trữ nước. https://sawaco.com.vn"),
				chromedp.Click(`input[name=priority][value=urgent]`),
				chromedp.Click("#n-ack"),
				chromedp.Click("#send-button"),
				chromedp.WaitVisible("#reach"),
			)
			m := reachURL.FindStringSubmatch(get(t, official, "reach URL", chromedp.Location()))
			if m == nil {
				t.Fatal("after sending: not on the reach page")
			}
			id := m[1]
			if got := get(t, official, "acknowledged before", chromedp.Text("#reach-acked")); strings.TrimSpace(got) != "0" {
				t.Fatalf("acknowledged before anyone acted: got %q, want 0", got)
			}

			// The resident's open inbox shows it without a reload, within
			// 2 s (the fallback poll is 30 s), with the unread badge.
			item := `#inbox a[href="/notices/` + id + `"]`
			if _, err := chromedp.Run(resident, chromedp.Poll[bool](`!!document.querySelector('`+item+`')`, chromedp.WithPollingTimeout(2*time.Second))); err != nil {
				t.Fatalf("the notice did not arrive live within 2 s: %v\n%s", err, pageText(resident))
			}
			if badge := get(t, resident, "unread badge", chromedp.Text("#inbox-unread")); strings.TrimSpace(badge) == "" || strings.TrimSpace(badge) == "0" {
				t.Errorf("unread badge after the notice arrived: got %q, want at least 1", badge)
			}
			if title := get(t, resident, "title", chromedp.Title()); !strings.HasPrefix(title, "(") {
				t.Errorf("tab title after the notice arrived: got %q, want the unread count first", title)
			}

			// The stream drops (a phone loses signal) while another notice
			// goes out; on reconnecting it resumes from the last event and
			// the notice appears, again without waiting for the poll.
			do(t, resident, "drop the stream", chromedp.Evaluate[chromedp.Void](`window.trothuParts.inbox.drop()`))
			// The official sends it through the API from the page's session.
			second := get(t, official, "send a second notice", chromedp.Evaluate[int](`fetch("/api/v1/notices", {method: "POST", credentials: "same-origin",
				headers: {"Content-Type": "application/json"},
				body: JSON.stringify({unit_id: `+kp+`, title: "Nhắc: mang theo can đựng nước", body: "Xe nước đến lúc 9 giờ."})}).then(r => r.json()).then(j => j.id || 0)`,
				chromedp.EvalAwaitPromise))
			if second == 0 {
				t.Fatal("second notice: got no id")
			}
			do(t, resident, "reconnect", chromedp.Evaluate[chromedp.Void](`window.trothuParts.inbox.reconnect()`))
			if _, err := chromedp.Run(resident, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector('#inbox a[href="/notices/%d"]')`, second),
				chromedp.WithPollingTimeout(2*time.Second))); err != nil {
				t.Fatalf("the notice sent while the stream was down did not appear within 2 s of reconnecting: %v", err)
			}
			do(t, resident, "open and acknowledge", chromedp.Click(item), chromedp.WaitVisible("#ack-button"),
				chromedp.Click("#ack-button"), chromedp.WaitVisible("#ack-done"))

			// The official's reach page catches up by itself, over the
			// stream: reach events come at most once a second, its poll
			// every 30 s.
			if poll := get(t, official, "reach fallback poll", chromedp.Evaluate[string](`document.querySelector("#reach").dataset.poll`)); poll != "30" {
				t.Fatalf("reach fallback poll: got %q s, want 30", poll)
			}
			if _, err := chromedp.Run(official, chromedp.Poll[bool](`document.querySelector('#reach-acked').textContent.trim() === '1'`,
				chromedp.WithPollingTimeout(5*time.Second))); err != nil {
				t.Fatalf("reach page did not show 1 acknowledgement: %v\n%s", err, pageText(official))
			}

			// The group head's round: the unreached list of Tổ 1.
			head := browser(t)
			signInAs(t, head, base, "0900000005")
			unreached := base + "/notices/" + id + "/unreached"
			do(t, head, "unreached list", chromedp.Navigate(unreached), chromedp.WaitVisible("#unreached"))
			rows := func() int {
				return get(t, head, "rows", chromedp.Evaluate[int](`document.querySelectorAll('#unreached tbody tr').length`))
			}
			before := rows()
			if before != 49 {
				t.Fatalf("unreached in Tổ 1: got %d, want 49 (50 less the resident's household)", before)
			}
			row := get(t, head, "a household without a smartphone", chromedp.Evaluate[string](
				`([...document.querySelectorAll('#unreached tbody tr')].find(r => r.textContent.includes('Không có điện thoại thông minh')) || {}).id || ''`))
			if row == "" {
				t.Fatal("no household without a smartphone in the unreached list")
			}
			do(t, head, "told in person",
				chromedp.SendKeys("#"+row+" input[name=note]", "Đã đến nhà báo trực tiếp"),
				chromedp.Click("#"+row+" button.proxy-ack"),
				chromedp.WaitVisible(".alert.ok"),
				chromedp.WaitNotPresent("#"+row),
			)
			if after := rows(); after != before-1 {
				t.Errorf("after the proxy acknowledgement: got %d unreached, want %d", after, before-1)
			}

			// It prints: the print stylesheet hides the forms and shows the
			// signature column, and the page prints to A4.
			if _, err := chromedp.Call(head, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
				t.Fatal(err)
			}
			styles := get(t, head, "print styles", chromedp.Evaluate[string](
				`getComputedStyle(document.querySelector('form.proxy')).display + ' ' + getComputedStyle(document.querySelector('.print-only')).display + ' ' + getComputedStyle(document.querySelector('header.top')).display`))
			if styles != "none table-cell none" {
				t.Errorf("print styles (form, signature column, header): got %q, want \"none table-cell none\"", styles)
			}
			pdf := get(t, head, "print to PDF", chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPreferCSSPageSize()))
			if !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 1000 {
				t.Errorf("printed: got %d bytes, want a PDF", len(pdf))
			}

			// The official's reach page now counts both acknowledgements.
			if _, err := chromedp.Run(official, chromedp.Poll[bool](`document.querySelector('#reach-acked').textContent.trim() === '2'`,
				chromedp.WithPollingTimeout(5*time.Second))); err != nil {
				t.Fatalf("reach page did not show 2 acknowledgements: %v", err)
			}
			if n, _ := strconv.Atoi(id); n <= 0 {
				t.Fatalf("notice id: got %q", id)
			}
		})
	}
}
