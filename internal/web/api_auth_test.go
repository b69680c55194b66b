package web_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/web"
)

// TestAPISignInByCode follows the DESIGN contract: OTP → token → /me →
// sign out.
func TestAPISignInByCode(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		otp := e.must(t, http.StatusOK, "POST", "/auth/otp", "", map[string]string{"phone": phoneOfficial})
		if otp.get("sent").v != true {
			t.Errorf("sent: got %v, want true", otp.get("sent").v)
		}
		if got := otp.num("expires_in"); got != 300 {
			t.Errorf("expires_in: got %d, want 300", got)
		}
		code := otp.str("demo_code")
		if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) {
			t.Fatalf("demo_code: got %q, want 6 digits", code)
		}
		if sms := e.sms.lastTo("+84900000002"); !strings.Contains(sms, code) {
			t.Errorf("SMS to +84900000002: got %q, want it to carry the code %s", sms, code)
		}

		// The +84 form is the same account as the 0… form.
		res := e.must(t, http.StatusOK, "POST", "/auth/verify", "", map[string]string{"phone": "+84 900 000 002", "code": code})
		tok := res.str("token")
		if tok == "" {
			t.Fatalf("verify: no token in %s", res.v)
		}
		exp, err := time.Parse(time.RFC3339, res.str("expires_at"))
		if err != nil || !exp.After(time.Now().Add(24*time.Hour)) {
			t.Errorf("expires_at: got %q (%v), want a time days ahead", res.str("expires_at"), err)
		}

		me := e.must(t, http.StatusOK, "GET", "/me", tok, nil)
		if got, want := me.str("name"), "Nguyễn Thị Lan"; got != want {
			t.Errorf("me.name: got %q, want %q", got, want)
		}
		if got, want := me.str("phone"), "090****002"; got != want {
			t.Errorf("me.phone: got %q, want the masked %q", got, want)
		}
		if me.has("resident_id") {
			t.Errorf("me.resident_id: got %v, want absent for an official", me.get("resident_id").v)
		}
		grants := me.list("grants")
		if len(grants) != 1 || grants[0].str("role") != "commune_official" || grants[0].str("unit_name") != "Bến Thành" || grants[0].num("unit_id") == 0 {
			t.Errorf("me.grants: got %v, want one commune_official grant on Bến Thành", me.get("grants").v)
		}
		if got := grants[0].str("role_name"); got != "Cán bộ, công chức phường/xã" {
			t.Errorf("role_name: got %q, want the Vietnamese label", got)
		}

		// A code is used once.
		if st, body := e.do(t, "POST", "/auth/verify", "", map[string]string{"phone": phoneOfficial, "code": code}); st != http.StatusUnauthorized {
			t.Errorf("reused code: got %d %v, want 401", st, body.v)
		}

		e.must(t, http.StatusNoContent, "POST", "/auth/signout", tok, nil)
		st, body := e.do(t, "GET", "/me", tok, nil)
		if st != http.StatusUnauthorized || body.str("error.code") != "unauthenticated" {
			t.Errorf("/me after sign-out: got %d %v, want 401 unauthenticated", st, body.v)
		}
	})
}

// TestAPIResidentFirstSignIn: a resident known to the area room signs in
// by code without an account and finds their household.
func TestAPIResidentFirstSignIn(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tok := e.signIn(t, phoneResident2)
		me := e.must(t, http.StatusOK, "GET", "/me", tok, nil)
		if me.num("resident_id") == 0 {
			t.Errorf("me.resident_id: got none, want the linked resident")
		}
		if gs := me.list("grants"); len(gs) != 1 || gs[0].str("role") != "resident" || gs[0].str("unit_name") != "Tổ 3" {
			t.Errorf("me.grants: got %v, want one resident grant on Tổ 3", me.get("grants").v)
		}
		h := e.must(t, http.StatusOK, "GET", "/me/household", tok, nil)
		if got := h.str("code"); got != "BT0251" {
			t.Errorf("household code: got %q, want BT0251", got)
		}
		for _, r := range h.list("residents") {
			if r.num("id") == me.num("resident_id") {
				if got := r.str("phone"); got != "+84900000011" {
					t.Errorf("own phone: got %q, want +84900000011 in full", got)
				}
			}
		}
	})
}

func TestAPISignInErrors(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		cases := []struct {
			name   string
			path   string
			body   any
			status int
			code   string
			field  string
		}{
			{"malformed phone", "/auth/otp", map[string]string{"phone": "12345"}, 400, "invalid", "phone"},
			{"unknown phone", "/auth/otp", map[string]string{"phone": "0987654321"}, 404, "not_found", ""},
			{"unknown field", "/auth/otp", map[string]string{"phone": phoneAdmin, "pin": "1"}, 400, "invalid", ""},
			{"empty body", "/auth/otp", nil, 400, "invalid", ""},
			{"code not six digits", "/auth/verify", map[string]string{"phone": phoneAdmin, "code": "12"}, 400, "invalid", "code"},
			{"wrong code", "/auth/verify", map[string]string{"phone": phoneHealth, "code": "000000"}, 401, "unauthenticated", ""},
			{"wrong password", "/auth/password", map[string]string{"phone": phoneHealth, "password": "not-the-password"}, 401, "unauthenticated", ""},
		}
		for _, c := range cases {
			st, body := e.do(t, "POST", c.path, "", c.body)
			if st != c.status || body.str("error.code") != c.code || body.str("error.message") == "" {
				t.Errorf("%s: got %d %v, want %d with error code %s and a message", c.name, st, body.v, c.status, c.code)
			}
			if c.field != "" && body.str("error.field") != c.field {
				t.Errorf("%s: got field %q, want %q", c.name, body.str("error.field"), c.field)
			}
		}

		big := bytes.Repeat([]byte(" "), 1<<20+10)
		big = append([]byte(`{"phone":"0900000001"`), append(big, '}')...)
		if r := e.call(t, "POST", "/auth/otp", "", big, "application/json", ""); r.status != 400 || r.json.str("error.code") != "invalid" {
			t.Errorf("body over 1 MiB: got %d %s, want 400 invalid", r.status, r.raw)
		}
		if st, body := e.do(t, "GET", "/me", "", nil); st != 401 || body.str("error.code") != "unauthenticated" {
			t.Errorf("anonymous /me: got %d %v, want 401 unauthenticated", st, body.v)
		}
		if st, body := e.do(t, "GET", "/me", "not-a-token", nil); st != 401 || body.str("error.code") != "unauthenticated" {
			t.Errorf("bad bearer token: got %d %v, want 401 unauthenticated", st, body.v)
		}
		if st, body := e.do(t, "GET", "/no/such/route", "", nil); st != 404 || body.str("error.code") != "not_found" {
			t.Errorf("unknown route: got %d %v, want 404 not_found", st, body.v)
		}
		if st, body := e.do(t, "POST", "/auth/signout", "", nil); st != 401 || body.str("error.code") != "unauthenticated" {
			t.Errorf("anonymous sign-out: got %d %v, want 401", st, body.v)
		}
	})
}

// TestAPIErrorLanguage: Vietnamese by default, English on request.
func TestAPIErrorLanguage(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		body := map[string]string{"phone": "12345"}
		vi := e.call(t, "POST", "/auth/otp", "", body, "", "")
		en := e.call(t, "POST", "/auth/otp", "", body, "", "en-GB,en;q=0.9")
		if vi.status != 400 || en.status != 400 {
			t.Fatalf("got %d and %d, want 400 both", vi.status, en.status)
		}
		if got := vi.json.str("error.message"); !strings.Contains(got, "Số điện thoại không hợp lệ") {
			t.Errorf("default message: got %q, want Vietnamese", got)
		}
		if got := en.json.str("error.message"); !strings.Contains(got, "Invalid phone number") {
			t.Errorf("Accept-Language en: got %q, want English", got)
		}
		if vi.json.str("error.code") != en.json.str("error.code") {
			t.Errorf("codes differ by language: %q vs %q", vi.json.str("error.code"), en.json.str("error.code"))
		}
		anon := e.call(t, "GET", "/me", "", nil, "", "en")
		if got := anon.json.str("error.message"); got != "Please sign in." {
			t.Errorf("401 in English: got %q, want %q", got, "Please sign in.")
		}
	})
}

// TestAPIPasswordAndTOTP: an official sets a password, turns on TOTP and
// signs in with both.
func TestAPIPasswordAndTOTP(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		phone := e.freshPhone()
		acc, err := e.accounts.CreateAccountSystem(ctx, account.AccountInput{Phone: phone, Name: "Cán Bộ Thử"})
		if err != nil {
			t.Fatal(err)
		}
		ward := e.unitByCode(t, area.LevelCommune, "26743")
		if _, err := e.accounts.GrantRoleSystem(ctx, acc.ID, account.RoleOfficial, ward.ID); err != nil {
			t.Fatal(err)
		}
		tok := e.signIn(t, phone)
		if st, body := e.do(t, "POST", "/me/password", tok, map[string]string{"password": "123456789012"}); st != 400 || body.str("error.field") == "" && body.str("error.code") != "invalid" {
			t.Errorf("digits-only password: got %d %v, want 400 invalid", st, body.v)
		}
		const pw = "mật-khẩu-thử-2026"
		e.must(t, http.StatusNoContent, "POST", "/me/password", tok, map[string]string{"password": pw})
		e.must(t, http.StatusOK, "POST", "/auth/password", "", map[string]string{"phone": phone, "password": pw})

		enr := e.must(t, http.StatusOK, "POST", "/me/totp", tok, nil)
		if !strings.HasPrefix(enr.str("otpauth_url"), "otpauth://totp/") {
			t.Errorf("otpauth_url: got %q", enr.str("otpauth_url"))
		}
		secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(enr.str("secret"))
		if err != nil {
			t.Fatalf("secret %q: %v", enr.str("secret"), err)
		}
		e.must(t, http.StatusNoContent, "POST", "/me/totp/confirm", tok, map[string]string{"code": account.TOTPCode(secret, time.Now())})
		if st, body := e.do(t, "POST", "/me/totp", tok, nil); st != http.StatusConflict {
			t.Errorf("enrol again: got %d %v, want 409", st, body.v)
		}

		st, body := e.do(t, "POST", "/auth/password", "", map[string]string{"phone": phone, "password": pw})
		if st != 401 || body.str("error.field") != "totp" {
			t.Errorf("password without TOTP: got %d %v, want 401 with field totp", st, body.v)
		}
		res := e.must(t, http.StatusOK, "POST", "/auth/password", "", map[string]string{"phone": phone, "password": pw, "totp": account.TOTPCode(secret, time.Now().Add(30*time.Second))})
		e.must(t, http.StatusOK, "GET", "/me", res.str("token"), nil)
	})
}

func TestAPIDemoAccounts(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		st, list := e.do(t, "GET", "/demo/accounts", "", nil)
		if st != 200 {
			t.Fatalf("got %d, want 200", st)
		}
		want := map[string]string{phoneAdmin: "admin", phoneOfficial: "commune_official", phoneLeader: "commune_leader",
			phoneNeighbourhood: "neighbourhood_head", phoneGroupHead: "group_head", phonePolice: "police", phoneVolunteer: "volunteer",
			phoneHealth: "health_staff", phoneResident: "resident", phoneResident2: "resident", phoneResidentOther: "resident"}
		got := map[string]string{}
		for _, a := range list.list("") {
			got[a.str("phone")] = a.str("role")
			if a.str("name") == "" || a.str("label") == "" {
				t.Errorf("account %v: want a name and a label", a.v)
			}
		}
		for phone, role := range want {
			if got[phone] != role {
				t.Errorf("demo account %s: got role %q, want %q", phone, got[phone], role)
			}
		}
		en := e.call(t, "GET", "/demo/accounts", "", nil, "", "en")
		if l := en.json.get("0.label").v; l != "Administrator" {
			t.Errorf("English label of the first account: got %v, want Administrator", l)
		}

		off := e.variant(t, web.Config{Demo: false}, nil)
		res, err := http.Get(off + "/api/v1/demo/accounts")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("demo accounts with demo off: got %d %s, want 404 JSON", res.StatusCode, res.Header.Get("Content-Type"))
		}
	})
}

// TestAPIDemoCodeOnlyInDemoMode: without demo mode the code goes by SMS only.
func TestAPIDemoCodeOnlyInDemoMode(t *testing.T) {
	e := newEnv(t, db.SQLite)
	off := &env{URL: e.variant(t, web.Config{Demo: false}, nil)}
	otp := off.must(t, http.StatusOK, "POST", "/auth/otp", "", map[string]string{"phone": phoneVolunteer})
	if otp.has("demo_code") {
		t.Errorf("demo_code with demo mode off: got %v, want absent", otp.get("demo_code").v)
	}
	if !otp.has("sent") {
		t.Errorf("got %v, want sent", otp.v)
	}
}
