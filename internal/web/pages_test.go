package web_test

import (
	"encoding/base32"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
)

// page fetches a page with the given session token as the cookie, without
// following redirects.
func (e *env) page(t *testing.T, method, path, token string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "trothu_session", Value: token})
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b), res.Header
}

func TestPagesFollowPermissions(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		ward := e.unitByCode(t, area.LevelCommune, "26743")
		kp1 := e.child(t, ward.ID, "Khu phố 1")
		kp2 := e.child(t, ward.ID, "Khu phố 2")
		to1 := e.child(t, kp1.ID, "Tổ 1")
		itoa := func(id int64) string { return strconv.FormatInt(id, 10) }
		cases := []struct {
			who, path string
			want      int
			contains  string
		}{
			{"", "/household", http.StatusSeeOther, ""},
			{"", "/units/" + itoa(ward.ID), http.StatusOK, "Khu phố 1"},
			{"0900000010", "/household", http.StatusOK, "Chủ hộ"},
			{"0900000010", "/units/" + itoa(to1.ID) + "/households", http.StatusForbidden, "không có quyền"},
			{"0900000020", "/units/" + itoa(to1.ID) + "/households", http.StatusForbidden, "không có quyền"},
			{"0900000005", "/units/" + itoa(to1.ID) + "/households", http.StatusOK, "Thêm hộ gia đình"},
			{"0900000005", "/units/" + itoa(kp2.ID) + "/households", http.StatusForbidden, "không có quyền"},
			{"0900000004", "/units/" + itoa(kp1.ID) + "/households", http.StatusOK, "Nhập danh sách"},
			{"0900000002", "/units/" + itoa(ward.ID), http.StatusOK, "Thêm khu phố"},
			{"0900000005", "/units/" + itoa(ward.ID), http.StatusOK, "Khu phố 2"},
			{"0900000003", "/roles", http.StatusOK, "Phân quyền cho tài khoản"},
			{"0900000002", "/roles", http.StatusForbidden, "không có quyền"},
			{"0900000003", "/audit", http.StatusOK, "Nhật ký"},
			{"0900000010", "/audit", http.StatusForbidden, "không có quyền"},
		}
		for _, c := range cases {
			tok := ""
			if c.who != "" {
				tok = e.token(t, c.who)
			}
			code, body, hdr := e.page(t, "GET", c.path, tok, nil)
			if code != c.want {
				t.Errorf("%s GET %s: got %d, want %d", c.who, c.path, code, c.want)
				continue
			}
			if c.want == http.StatusSeeOther && !strings.HasPrefix(hdr.Get("Location"), "/signin") {
				t.Errorf("anonymous GET %s: redirected to %q, want /signin", c.path, hdr.Get("Location"))
			}
			if c.contains != "" && !strings.Contains(body, c.contains) {
				t.Errorf("%s GET %s: page lacks %q", c.who, c.path, c.contains)
			}
			if c.who == "0900000005" && c.want == http.StatusOK && strings.Contains(c.path, "/units/"+itoa(ward.ID)) && strings.Contains(body, "Thêm khu phố") {
				t.Errorf("group head sees the form to add a khu phố to the ward")
			}
		}
	})
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tok := e.signIn(t, "0900000010") // its own session: it signs out at the end, and other tests share e.token's
		code, _, _ := e.page(t, "POST", "/signout", tok, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		if code != http.StatusForbidden {
			t.Fatalf("cross-site POST /signout: got %d, want 403", code)
		}
		// The session survived the forged request.
		if code, _, _ := e.page(t, "GET", "/household", tok, nil); code != http.StatusOK {
			t.Fatalf("after a refused forged sign-out: GET /household got %d, want 200", code)
		}
		code, _, _ = e.page(t, "POST", "/signout", tok, map[string]string{"Origin": e.URL, "Sec-Fetch-Site": "same-origin"})
		if code != http.StatusSeeOther {
			t.Fatalf("same-origin POST /signout: got %d, want 303", code)
		}
	})
}

var assetRE = regexp.MustCompile(`href="(/static/app\.[0-9a-f]{8}\.css)"`)

func TestEnglishSwitchAndAssets(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		_, body, _ := e.page(t, "GET", "/signin", "", nil)
		if !strings.Contains(body, `<html lang="vi">`) || !strings.Contains(body, "Gửi mã xác thực") {
			t.Fatalf("default sign-in page is not Vietnamese")
		}
		code, _, hdr := e.page(t, "GET", "/lang/en?back=/signin", "", nil)
		if code != http.StatusSeeOther || hdr.Get("Location") != "/signin" || !strings.Contains(hdr.Get("Set-Cookie"), "lang=en") {
			t.Fatalf("GET /lang/en: got %d, Location %q, Set-Cookie %q", code, hdr.Get("Location"), hdr.Get("Set-Cookie"))
		}
		if _, _, hdr := e.page(t, "GET", "/lang/en?back=//evil.example", "", nil); hdr.Get("Location") != "/" {
			t.Fatalf("open redirect: /lang/en?back=//evil.example went to %q", hdr.Get("Location"))
		}
		req, _ := http.NewRequest("GET", e.URL+"/signin", nil)
		req.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(b), `<html lang="en">`) || !strings.Contains(string(b), "Send the code") {
			t.Fatalf("English sign-in page: got %.300s", b)
		}
		m := assetRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no content-hash stylesheet URL in the page")
		}
		code, css, hdr := e.page(t, "GET", m[1], "", map[string]string{"Accept-Encoding": "identity"})
		if code != http.StatusOK || !strings.Contains(hdr.Get("Cache-Control"), "immutable") || !strings.Contains(css, "body{") {
			t.Fatalf("GET %s: got %d, Cache-Control %q", m[1], code, hdr.Get("Cache-Control"))
		}
	})
}

func TestAccountPageTOTP(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tok := e.signIn(t, "0900000006") // police officer
		if code, body, _ := e.page(t, "GET", "/account", tok, nil); code != http.StatusOK || !strings.Contains(body, "Xác thực hai lớp") {
			t.Fatalf("GET /account: got %d", code)
		}
		same := map[string]string{"Origin": e.URL, "Sec-Fetch-Site": "same-origin"}
		code, body, _ := e.page(t, "POST", "/account/totp", tok, same)
		m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)
		if code != http.StatusOK || m == nil {
			t.Fatalf("POST /account/totp: got %d, no secret shown", code)
		}
		// A wrong code does not turn it on.
		if code, body := e.form(t, "/account/totp/confirm", tok, "code=000000"); code == http.StatusSeeOther || !strings.Contains(body, "alert error") {
			t.Fatalf("wrong TOTP code: got %d, want an error on the page", code)
		}
		secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(m[1])
		if err != nil {
			t.Fatalf("secret %q: %v", m[1], err)
		}
		now := time.Now()
		if code, _ := e.form(t, "/account/totp/confirm", tok, "code="+account.TOTPCode(secret, now)); code != http.StatusSeeOther {
			t.Fatalf("right TOTP code: got %d, want 303", code)
		}
		if _, body, _ := e.page(t, "GET", "/account", tok, nil); !strings.Contains(body, "Đang bật") {
			t.Fatalf("after confirming, the account page does not say TOTP is on")
		}
		// Password sign-in now needs the code.
		pw := map[string]string{"phone": "0900000006", "password": "trothu-demo-2026"}
		if st, _ := e.do(t, "POST", "/auth/password", "", pw); st == http.StatusOK {
			t.Fatalf("password sign-in without TOTP: got 200, want refusal")
		}
		pw["totp"] = account.TOTPCode(secret, now.Add(30*time.Second))
		e.must(t, http.StatusOK, "POST", "/auth/password", "", pw)
	})
}

// form posts a same-origin form with the session cookie.
func (e *env) form(t *testing.T, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: "trothu_session", Value: token})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
