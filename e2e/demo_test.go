package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/trothu/trothu/internal/db"
)

var idInURL = regexp.MustCompile(`/households/(\d+)`)

func TestDemoInBrowser(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			srv := startDemo(t, engine)
			base := srv.URL

			// A resident signs in with the code from the screen and sees
			// their household.
			resident := browser(t)
			signInAs(t, resident, base, "0900000010")
			do(t, resident, "my household", chromedp.Navigate(base+"/household"), chromedp.WaitVisible("#residents"))
			text := get(t, resident, "my household text", chromedp.Text("main"))
			if !strings.Contains(text, "Chủ hộ") || !strings.Contains(text, "Khu phố 1") {
				t.Fatalf("my household page: got %q, want the head and the khu phố", text)
			}

			// The residential-group head of Khu phố 1 › Tổ 1 adds a household
			// and a resident.
			head := browser(t)
			signInAs(t, head, base, "0900000005")
			do(t, head, "home", chromedp.Navigate(base+"/"))
			unitHref := get(t, head, "home lists the tổ", chromedp.AttributeValue(`main ul.list a.item`, "href")).Value
			do(t, head, "add a household",
				chromedp.Navigate(base+unitHref+"/households"),
				chromedp.Click("#add-household summary"),
				chromedp.SendKeys("#h-address", "99 Đường Thử Nghiệm"),
				chromedp.Click(`#add-household input[name=flags][value="4"]`),
				chromedp.Submit("#h-address"),
				chromedp.WaitVisible("#household"),
			)
			url := get(t, head, "household URL", chromedp.Location())
			m := idInURL.FindStringSubmatch(url)
			if m == nil {
				t.Fatalf("after adding a household: got URL %s, want /households/ID", url)
			}
			householdURL := base + "/households/" + m[1]
			do(t, head, "add a resident",
				chromedp.Click("#add-resident summary"),
				chromedp.SendKeys("#r-name-0", "Nguyễn Văn Học"),
				chromedp.SendKeys("#r-year-0", "1958"),
				chromedp.SendKeys("#r-phone-0", "0987 000 111"),
				chromedp.SendKeys("#r-cccd-0", "079058012345"),
				chromedp.Click(`#add-resident input[name=is_head]`),
				chromedp.Submit("#r-name-0"),
				chromedp.WaitVisible("#residents"),
			)
			text = get(t, head, "members", chromedp.Text("#residents"))
			if !strings.Contains(text, "Nguyễn Văn Học") || !strings.Contains(text, "1958") {
				t.Fatalf("household members: got %q, want Nguyễn Văn Học born 1958", text)
			}
			if strings.Contains(text, "079058012345") || !strings.Contains(text, "********2345") {
				t.Fatalf("citizen ID: got %q, want it masked as ********2345", text)
			}
			// Search folds diacritics: "nguyen van hoc" finds the new member.
			do(t, head, "search households", chromedp.Navigate(base+unitHref+"/households?q=nguyen+van+hoc"))
			text = get(t, head, "search results", chromedp.Text("main"))
			if !strings.Contains(text, "99 Đường Thử Nghiệm") {
				t.Fatalf("search for nguyen van hoc: got %q, want the new household", text)
			}

			// A resident of another ward cannot see them.
			outsider := browser(t)
			signInAs(t, outsider, base, "0900000020")
			for _, path := range []string{householdURL, base + unitHref + "/households"} {
				do(t, outsider, "outsider opens "+path, chromedp.Navigate(path))
				text = get(t, outsider, "outsider page", chromedp.Text("main"))
				if strings.Contains(text, "Nguyễn Văn Học") || strings.Contains(text, "99 Đường Thử Nghiệm") || !strings.Contains(text, "không có quyền") {
					t.Fatalf("outsider at %s: got %q, want a refusal and no data", path, text)
				}
			}
		})
	}
}

// signInAs signs in through the sign-in page with the one-time code the
// demo shows on screen.
func signInAs(t *testing.T, ctx context.Context, base, phone string) {
	t.Helper()
	do(t, ctx, "sign in as "+phone,
		chromedp.Navigate(base+"/signin"),
		chromedp.SendKeys("#phone", phone),
		chromedp.Submit("#phone"),
		chromedp.WaitVisible("#demo-code"),
	)
	code := get(t, ctx, "demo code", chromedp.Text("#demo-code"))
	do(t, ctx, "enter the code",
		chromedp.SendKeys("#code", strings.TrimSpace(code)),
		chromedp.Submit("#code"),
		chromedp.WaitVisible(`form[action="/signout"]`),
	)
	loc := get(t, ctx, "location", chromedp.Location())
	if !strings.HasSuffix(loc, "/") {
		t.Fatalf("after sign-in: got %s, want the home page", loc)
	}
}
