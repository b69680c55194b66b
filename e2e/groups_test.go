package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/vntext"
)

// TestGroupChatInBrowser is the group room's headline flow, on both
// engines: two residents in two browsers; one posts a message with a photo
// and the other sees it without reloading, with the same buttons and menu
// as a message rendered with the page; the second loses its connection,
// misses messages and sees each of them once when it reconnects; a
// mention is highlighted; the tổ head's "seen by" rises as they read; a
// reported message reaches the head's open moderation queue, is hidden and
// disappears from the members' open pages, then comes back in its place
// when the head shows it again.
func TestGroupChatInBrowser(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) { groupChatFlow(t, engine) })
	}
}

func groupChatFlow(t *testing.T, engine db.Dialect) {
	srv := startDemo(t, engine)
	base := srv.URL

	// The tổ head invites a resident of another tổ into Tổ 1's group.
	head := browser(t)
	signInAs(t, head, base, "0900000005")
	do(t, head, "my groups", chromedp.Navigate(base+"/groups"), chromedp.WaitVisible("#groups"))
	groupURL := get(t, head, "tổ 1 group link", chromedp.Evaluate[string](
		`[...document.querySelectorAll("#groups a.item")].find(a => a.textContent.includes("Tổ 1 — Khu phố 1")).href`))
	do(t, head, "make an invite link",
		chromedp.Navigate(groupURL+"/invites"),
		chromedp.Click(`form[action$="/invites"] button`),
		chromedp.WaitVisible("#new-invite input"),
		chromedp.WaitVisible("#invite-qr svg"),
	)
	invite := get(t, head, "invite link", chromedp.Value("#new-invite input"))

	b := browser(t)
	signInAs(t, b, base, "0900000011")
	do(t, b, "accept the invite", chromedp.Navigate(invite), chromedp.Click(`form[action^="/join/"] button`), chromedp.WaitVisible("#chat"))

	a := browser(t)
	signInAs(t, a, base, "0900000010")
	do(t, a, "open the chat", chromedp.Navigate(groupURL), chromedp.WaitVisible("#compose"))
	do(t, b, "mark the page", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))

	// The head posts; both residents read it; the head's "seen by" follows.
	do(t, head, "open the chat", chromedp.Navigate(groupURL), chromedp.WaitVisible("#compose"),
		chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	do(t, head, "post a notice", chromedp.SendKeys("#body", "Thông báo: thứ Bảy tổng vệ sinh"), chromedp.Click("#send"),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#messages li.msg .seen")].some(s => s.closest("li").textContent.includes("tổng vệ sinh") && s.dataset.n === "2")`))
	if ok := get(t, head, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)); !ok {
		t.Fatal("head's page: got reloaded, want seen-by updated in place")
	}

	photo := filepath.Join(t.TempDir(), "o-ga.png")
	writePNG(t, photo)
	do(t, a, "post a message with a photo",
		chromedp.SendKeys("#body", "Ổ gà lớn trước nhà số 12, bà con đi cẩn thận"),
		chromedp.SetUploadFiles("#photo", []string{photo}),
		chromedp.Click("#send"),
	)
	do(t, b, "the other resident sees it", chromedp.WaitVisible(`#messages li.msg a.photo img`))
	text := get(t, b, "chat text", chromedp.Text("#messages"))
	if !strings.Contains(text, "Ổ gà lớn trước nhà số 12") {
		t.Fatalf("second resident's chat: got %q, want the new message", text)
	}
	if ok := get(t, b, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)); !ok {
		t.Fatal("second resident's page: got reloaded, want the message to arrive in place")
	}
	live := `[...document.querySelectorAll("#messages li.msg")].find(li => li.textContent.includes("Ổ gà lớn"))`
	menu := get(t, b, "live message's buttons", chromedp.Evaluate[string](
		`(li => ["form.reacts button.react", "details.more summary", "details.more button.report", "a.reply"].filter(s => !li.querySelector(s)).join(","))(`+live+`)`))
	if menu != "" {
		t.Fatalf("live message: got no %s, want the buttons and menu of a page-rendered one", menu)
	}
	// A reaction from the picker, in place: the author's open page shows it.
	do(t, b, "react with a heart", chromedp.Evaluate[chromedp.Void](
		`(li => { const h = li.querySelector('details.pick button[data-emoji="❤️"]'); h.form.requestSubmit(h); })(`+live+`)`),
		chromedp.Poll[chromedp.Void](`(li => !!li.querySelector('form.reacts > button.on[data-emoji="❤️"]'))(`+live+`)`))
	do(t, a, "the heart arrives", chromedp.Poll[chromedp.Void](
		`(li => { const h = li.querySelector('form.reacts > button[data-emoji="❤️"]'); return !!h && h.textContent.trim() === "❤️ 1"; })(`+live+`)`))
	src := get(t, b, "photo URL", chromedp.AttributeValue(`#messages li.msg a.photo img`, "src")).Value
	if res, err := http.Get(base + src); err != nil || res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusOK {
		t.Fatalf("photo without a session: got %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// The second resident's connection drops; two messages are posted, one
	// naming the tổ head; it comes back and sees each of them, once.
	headName := demoName(t, base, "0900000005")
	missed := []string{"Tin lúc mất mạng thứ nhất", "@" + headName + " ơi, tin lúc mất mạng thứ hai"}
	// "@" and the start of the head's given name, typed without diacritics,
	// offers the head; a tap writes the full name into the message.
	words := strings.Fields(vntext.Fold(headName))
	typed := "Cảm ơn @" + words[len(words)-1][:2]
	do(t, a, "mention completion", chromedp.SendKeys("#body", typed),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll("#mention-list li")].some(li => li.dataset.name === %q)`, headName)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll("#mention-list li")].find(li => li.dataset.name === %q).dispatchEvent(new MouseEvent("mousedown", {bubbles: true}))`, headName)))
	if got, want := get(t, a, "completed text", chromedp.Value("#body")), "Cảm ơn @"+headName+" "; got != want {
		t.Fatalf("mention completion: got %q, want %q", got, want)
	}
	do(t, a, "clear the composer", chromedp.Evaluate[chromedp.Void](`document.getElementById("body").value = ""`))

	do(t, b, "drop the connection", chromedp.Evaluate[chromedp.Void](`window.trothuEvents.drop()`))
	for _, m := range missed {
		do(t, a, "post "+m, chromedp.SendKeys("#body", m), chromedp.Click("#send"),
			chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector("#messages").textContent.includes(%q)`, m)))
	}
	do(t, b, "reconnect", chromedp.Evaluate[chromedp.Void](`window.trothuEvents.reconnect()`),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector("#messages").textContent.includes(%q)`, missed[1])))
	for _, m := range missed {
		n := get(t, b, "count "+m, chromedp.Evaluate[int](fmt.Sprintf(
			`[...document.querySelectorAll("#messages li.msg .body")].filter(e => e.textContent === %q).length`, m)))
		if n != 1 {
			t.Fatalf("after reconnecting, %q: got %d copies, want 1", m, n)
		}
	}
	mark := get(t, b, "mention", chromedp.Evaluate[string](`(document.querySelector("#messages li.msg mark.mention") || {}).textContent || ""`))
	if mark != "@"+headName {
		t.Fatalf("mention: got %q marked, want %q", mark, "@"+headName)
	}

	// The first message is reported; it reaches the head's open queue; the
	// head hides it; it disappears from both residents' open pages.
	id := get(t, b, "message id", chromedp.Evaluate[string](live+`.id`))
	order := `[...document.querySelectorAll("#messages > li.msg")].map(li => li.id).join(" ")`
	before := get(t, b, "order", chromedp.Evaluate[string](order))
	do(t, head, "open the moderation queue", chromedp.Navigate(groupURL+"/moderation"), chromedp.WaitVisible("#no-reports"),
		chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	do(t, b, "report it",
		chromedp.Reload(),
		chromedp.WaitVisible("#"+id+" details.more summary"),
		chromedp.Click("#"+id+" details.more summary"),
		chromedp.SendKeys("#"+id+` input[name=reason]`, "Thử báo cáo"),
		chromedp.Click("#"+id+" button.report"),
		chromedp.WaitVisible(".alert.ok"),
	)
	do(t, head, "the report arrives", chromedp.WaitVisible("#reports button.hide"))
	if ok := get(t, head, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)); !ok {
		t.Fatal("head's queue: got reloaded, want the report to arrive in place")
	}
	for _, ctx := range []context.Context{a, b} {
		do(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	}
	do(t, head, "hide it from the moderation queue",
		chromedp.Click("#reports button.hide"),
		chromedp.WaitVisible(".alert.ok"),
	)
	for name, ctx := range map[string]context.Context{"author": a, "reporter": b} {
		do(t, ctx, name+" no longer sees it", chromedp.WaitNotPresent("#"+id))
	}

	// The head shows it again: it comes back where it was.
	do(t, head, "show it again",
		chromedp.Navigate(groupURL),
		chromedp.WaitReady("#"+id+` form[action$="/unhide"] button`),
		chromedp.Submit("#"+id+` form[action$="/unhide"] button`), // the menu may sit under the sticky composer
		chromedp.WaitVisible(".alert.ok"),
	)
	for name, ctx := range map[string]context.Context{"author": a, "reporter": b} {
		do(t, ctx, name+" sees it again", chromedp.WaitVisible("#"+id))
		if ok := get(t, ctx, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)); !ok {
			t.Fatalf("%s's page: got reloaded, want the message hidden and shown in place", name)
		}
	}
	if after := get(t, b, "order", chromedp.Evaluate[string](order)); after != before {
		t.Fatalf("reporter's messages after showing it again: got %s, want %s", after, before)
	}
}

// demoName returns the name of the demo account with phone.
func demoName(t *testing.T, base, phone string) string {
	t.Helper()
	var accounts []struct{ Phone, Name string }
	apiJSON(t, "GET", base+"/api/v1/demo/accounts", "", nil, &accounts)
	for _, a := range accounts {
		if a.Phone == phone {
			return a.Name
		}
	}
	t.Fatalf("demo accounts: got none with phone %s", phone)
	return ""
}

func writePNG(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	for x := 0; x < 800; x++ {
		img.Set(x, 300, color.RGBA{200, 0, 0, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// natsURL is the test NATS server: $TROTHU_TEST_NATS or the local default;
// unreachable, it skips the test outside CI and fails it under CI.
func natsURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TROTHU_TEST_NATS")
	required := u != "" || os.Getenv("CI") != ""
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "nats://"), 2*time.Second)
	if err != nil {
		if required {
			t.Fatalf("NATS at %s is required here (CI or TROTHU_TEST_NATS set) but unreachable: %v", u, err)
		}
		t.Skipf("NATS unreachable at %s (set TROTHU_TEST_NATS): %v", u, err)
	}
	c.Close()
	return u
}

// startInstance runs `trothu serve --demo` on the database and NATS given.
func startInstance(t *testing.T, dbURL, nats string) *server {
	t.Helper()
	data := t.TempDir()
	addr := freePort(t)
	logf, err := os.Create(filepath.Join(data, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "serve", "--demo", "--addr", addr, "--data", data)
	cmd.Env = append(os.Environ(), "TROTHU_DATABASE_URL="+dbURL, "TROTHU_NATS_URL="+nats)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{URL: "http://" + addr, cmd: cmd, log: logf}
	t.Cleanup(func() { s.stop(t) })
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if res, err := http.Get(s.URL + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
	}
	s.dumpLog(t)
	t.Fatalf("instance at %s did not become ready", s.URL)
	return nil
}

func apiJSON(t *testing.T, method, url, token string, body, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: got %d", method, url, res.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}

func apiSignIn(t *testing.T, base, phone string) string {
	t.Helper()
	var otp struct {
		DemoCode string `json:"demo_code"`
	}
	apiJSON(t, "POST", base+"/api/v1/auth/otp", "", map[string]string{"phone": phone}, &otp)
	var tok struct {
		Token string `json:"token"`
	}
	apiJSON(t, "POST", base+"/api/v1/auth/verify", "", map[string]string{"phone": phone, "code": otp.DemoCode}, &tok)
	return tok.Token
}

// TestTwoInstancesOverNATS: two `trothu serve` processes share one
// PostgreSQL schema and NATS; a message posted on one reaches an /events
// stream open on the other.
func TestTwoInstancesOverNATS(t *testing.T) {
	nats := natsURL(t)
	dbURL := dbtest.URL(t, db.Postgres)
	one := startInstance(t, dbURL, nats)
	two := startInstance(t, dbURL, nats) // the demo is already there: it is kept

	resident := apiSignIn(t, two.URL, "0900000010")
	var mine struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	apiJSON(t, "GET", two.URL+"/api/v1/groups", resident, nil, &mine) // joins the tổ's groups
	var gid int64
	for _, g := range mine.Items {
		if strings.HasPrefix(g.Name, "Tổ 1 — Khu phố 1") {
			gid = g.ID
		}
	}
	if gid == 0 {
		t.Fatalf("resident's groups on instance two: got %+v, want Tổ 1's", mine.Items)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", two.URL+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+resident)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /events on instance two: %v %v", res, err)
	}
	defer res.Body.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for l := range lines { // wait for the stream to be subscribed
		if l == "event: ready" {
			break
		}
	}
	head := apiSignIn(t, one.URL, "0900000005")
	apiJSON(t, "POST", fmt.Sprintf("%s/api/v1/groups/%d/messages", one.URL, gid), head, map[string]string{"body": "Gửi từ máy chủ một"}, nil)
	for l := range lines {
		if strings.HasPrefix(l, "data: ") && strings.Contains(l, "Gửi từ máy chủ một") {
			return
		}
	}
	t.Fatal("instance two's stream: got no message from instance one, want it")
}

// TestGroupSettingsInBrowser: a ward official makes a group of one of the
// ward's organisations from the page, then changes its name and makes it
// announce-only on the settings page.
func TestGroupSettingsInBrowser(t *testing.T) {
	srv := startDemo(t, db.SQLite)
	base := srv.URL
	official := browser(t)
	signInAs(t, official, base, "0900000002")
	do(t, official, "my groups", chromedp.Navigate(base+"/groups"), chromedp.WaitReady("#g-unit"))
	ward := get(t, official, "the ward's unit id", chromedp.Evaluate[string](`document.querySelector("#g-unit").value`))
	var org struct {
		ID int64 `json:"id"`
	}
	admin := apiSignIn(t, base, "0900000001")
	apiJSON(t, "POST", base+"/api/v1/organisations", admin,
		map[string]any{"unit_id": json.Number(ward), "kind": "women_union", "name": "Hội Phụ nữ phường thử"}, &org)

	do(t, official, "create the organisation's group",
		chromedp.Navigate(base+"/groups"),
		chromedp.WaitReady(fmt.Sprintf(`#g-org option[value="%d"]`, org.ID)),
		chromedp.Click("#create-group summary"),
		chromedp.SetValue("#g-org", fmt.Sprint(org.ID)),
		chromedp.SendKeys("#g-name", "Chi hội phụ nữ"),
		chromedp.SetValue("#g-policy", "approval"),
		chromedp.Submit("#g-name"),
		chromedp.WaitVisible("#chat"),
	)
	groupURL := get(t, official, "group URL", chromedp.Location())
	do(t, official, "change the settings",
		chromedp.Navigate(groupURL+"/settings"),
		chromedp.WaitVisible("#settings"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#s-name").value = "Chi hội phụ nữ — thông báo"`),
		chromedp.Click("#s-announce"),
		chromedp.Submit("#s-name"),
		chromedp.WaitVisible(".alert.ok"),
		chromedp.Navigate(groupURL),
		chromedp.WaitVisible("#chat"),
	)
	text := get(t, official, "chat header", chromedp.Text(".chat-links"))
	title := get(t, official, "chat title", chromedp.Text("h1.chat-title"))
	if title != "Chi hội phụ nữ — thông báo" || !strings.Contains(text, "Chỉ quản trị đăng tin") {
		t.Fatalf("group after saving: got %q / %q, want the new name and the announce-only tag", title, text)
	}
	var g struct {
		OrganisationID int64  `json:"organisation_id"`
		JoinPolicy     string `json:"join_policy"`
	}
	apiJSON(t, "GET", base+"/api/v1/groups/"+groupURL[strings.LastIndex(groupURL, "/")+1:], admin, nil, &g)
	if g.OrganisationID != org.ID || g.JoinPolicy != "approval" {
		t.Fatalf("group: got organisation %d, policy %q; want %d, approval", g.OrganisationID, g.JoinPolicy, org.ID)
	}
}
