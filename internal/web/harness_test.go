package web_test

// The API tests share one server per database engine: importing the
// national tree and seeding the demo ward take seconds, so each engine's
// environment is built once per test binary (on first use) and torn down in
// TestMain. Tests that change data create their own rows (fresh households,
// units, accounts, unique names) so that they do not depend on each other or
// on their order.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/app"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/web"
)

var testKey = []byte("web-test-secret-key-of-at-least-32-bytes")

// Demo phones (see internal/demo).
const (
	phoneAdmin         = "0900000001"
	phoneOfficial      = "0900000002"
	phoneLeader        = "0900000003"
	phoneNeighbourhood = "0900000004"
	phoneGroupHead     = "0900000005"
	phonePolice        = "0900000006"
	phoneVolunteer     = "0900000007"
	phoneHealth        = "0900000008"
	phoneResident      = "0900000010" // head of BT0001, Bến Thành > Khu phố 1 > Tổ 1
	phoneResident2     = "0900000011" // head of BT0251, Bến Thành > Khu phố 2 > Tổ 3
	phoneResidentOther = "0900000020" // head of SG001, Phường Sài Gòn > Khu phố 1
)

func TestMain(m *testing.M) {
	code := m.Run()
	shared.cleanup()
	os.Exit(code)
}

// env is one engine's running server and the services behind it.
type env struct {
	name     string
	URL      string
	srv      *web.Server
	db       *db.DB
	areas    *area.Service
	accounts *account.Service
	app      *app.App // every room's service, for setting up data
	sms      *smsBox
	seq      atomic.Int64

	mu     sync.Mutex
	tokens map[string]string

	fxOnce sync.Once
	fx     *fixture
	fxErr  error
}

type envSlot struct {
	once       sync.Once
	env        *env
	fail, skip string
}

var (
	slotsMu sync.Mutex
	slots   = map[db.Dialect]*envSlot{}

	geoOnce  sync.Once
	geoIndex *geo.Index
	geoErr   error
)

// newEnv returns the shared environment of the engine, building it on first
// use: a fresh database with the national tree and the demo ward, the
// account and area services, the embedded ward boundaries, and the server
// behind httptest. It skips when the engine is unavailable (see dbtest).
func newEnv(t *testing.T, d db.Dialect) *env {
	t.Helper()
	slotsMu.Lock()
	slot := slots[d]
	if slot == nil {
		slot = &envSlot{}
		slots[d] = slot
	}
	slotsMu.Unlock()
	slot.once.Do(func() {
		start := time.Now()
		slot.env, slot.fail, slot.skip = buildEnv(d)
		if slot.env != nil {
			t.Logf("%s environment built in %v", d, time.Since(start).Round(time.Millisecond))
		}
	})
	if slot.skip != "" {
		t.Skip(slot.skip)
	}
	if slot.fail != "" {
		t.Fatal(slot.fail)
	}
	return slot.env
}

// eachEngine runs fn once per engine, in parallel subtests.
func eachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, d))
		})
	}
}

func loadGeo() (*geo.Index, error) {
	geoOnce.Do(func() { geoIndex, geoErr = geo.LoadEmbedded() })
	return geoIndex, geoErr
}

func buildEnv(d db.Dialect) (e *env, fail, skip string) {
	defer func() {
		switch v := recover().(type) {
		case nil:
		case tbFailure:
			fail = string(v)
		case tbSkip:
			skip = string(v)
		default:
			panic(v)
		}
	}()
	ctx := context.Background()
	database := dbtest.Open(shared, d)
	sms := &smsBox{last: map[string]string{}}
	quiet := slog.New(slog.DiscardHandler)
	services, err := app.New(ctx, database, app.Config{SecretKey: testKey, Demo: true, SMS: sms, Logger: quiet, DataDir: shared.TempDir(),
		Account: func(c *account.Config) {
			// Every test signs in from 127.0.0.1: the per-IP and per-minute
			// limits (tested in the account room) would get in the way.
			c.OTP = account.OTPConfig{Interval: time.Millisecond, PerHour: 100000, PerIPPerHour: 1000000}
			c.Password = account.PasswordConfig{Argon2: account.Argon2Params{Memory: 64, Time: 1, Threads: 1}, MaxIPFailures: 1000000}
		}})
	if err != nil {
		return nil, "services: " + err.Error(), ""
	}
	areas, accounts := services.Areas, services.Accounts
	if _, err := areas.ImportNational(ctx, nil, nil); err != nil {
		return nil, "import national: " + err.Error(), ""
	}
	if err := services.SeedDemo(ctx); err != nil {
		return nil, "demo seed: " + err.Error(), ""
	}
	gix, err := loadGeo()
	if err != nil {
		return nil, "geo: " + err.Error(), ""
	}
	e = &env{name: string(d), db: database, areas: areas, accounts: accounts, sms: sms, tokens: map[string]string{}, app: services}
	e.srv, e.URL, err = serve(web.Config{Demo: true}, web.Deps{DB: database, Accounts: accounts, Areas: areas, Geo: gix, Logger: quiet,
		Jobs: services.Jobs, Broker: services.Broker, Groups: services.Groups, Notices: services.Notices, Requests: services.Requests})
	if err != nil {
		return nil, "web.New: " + err.Error(), ""
	}
	return e, "", ""
}

// serve starts a server for the rest of the test binary.
func serve(cfg web.Config, deps web.Deps) (*web.Server, string, error) {
	srv, err := web.New(cfg, deps)
	if err != nil {
		return nil, "", err
	}
	hs := httptest.NewServer(srv.Handler())
	shared.Cleanup(hs.Close)
	return srv, hs.URL, nil
}

// variant starts another server over e's database with another
// configuration (demo mode off, no boundaries…) and returns its URL.
func (e *env) variant(t *testing.T, cfg web.Config, gix *geo.Index) string {
	t.Helper()
	srv, err := web.New(cfg, web.Deps{DB: e.db, Accounts: e.accounts, Areas: e.areas, Geo: gix, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// smsBox keeps the last text sent to each phone.
type smsBox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *smsBox) Send(ctx context.Context, phone, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last[phone] = text
	return nil
}

func (b *smsBox) lastTo(phone string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[phone]
}

// next returns a number unique within e, for names, codes and phones.
func (e *env) next() int64 { return e.seq.Add(1) }

// freshPhone returns a mobile number no one in e has used.
func (e *env) freshPhone() string { return fmt.Sprintf("0912%06d", e.next()) }

// --- HTTP helpers ---

// reply is a response: status, headers, raw body and the body as JSON.
type reply struct {
	status int
	header http.Header
	raw    []byte
	json   jv
}

// call sends a request. body is JSON-encoded unless it is []byte (sent as
// is, with contentType). lang, when set, is sent as Accept-Language.
func (e *env) call(t *testing.T, method, path, token string, body any, contentType, lang string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
		contentType = "application/json"
	}
	req, err := http.NewRequest(method, e.URL+"/api/v1"+path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	out := reply{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, raw)
		}
		out.json = jv{v}
	}
	return out
}

// do sends a JSON request and returns the status and the decoded body.
func (e *env) do(t *testing.T, method, path, token string, body any) (int, jv) {
	t.Helper()
	r := e.call(t, method, path, token, body, "", "")
	return r.status, r.json
}

// must sends a JSON request and fails the test unless the status is want.
func (e *env) must(t *testing.T, want int, method, path, token string, body any) jv {
	t.Helper()
	r := e.call(t, method, path, token, body, "", "")
	if r.status != want {
		t.Fatalf("%s %s: got status %d, want %d; body %s", method, path, r.status, want, r.raw)
	}
	return r.json
}

// signIn signs in by one-time code through the API, as a phone app does,
// and returns a new token.
func (e *env) signIn(t *testing.T, phone string) string {
	t.Helper()
	otp := e.must(t, http.StatusOK, "POST", "/auth/otp", "", map[string]string{"phone": phone})
	code := otp.str("demo_code")
	if len(code) != 6 {
		t.Fatalf("sign in %s: got demo_code %q, want 6 digits", phone, code)
	}
	res := e.must(t, http.StatusOK, "POST", "/auth/verify", "", map[string]string{"phone": phone, "code": code})
	tok := res.str("token")
	if tok == "" {
		t.Fatalf("sign in %s: no token in %v", phone, res.v)
	}
	return tok
}

// token returns a token of phone, signing in once per environment.
func (e *env) token(t *testing.T, phone string) string {
	t.Helper()
	e.mu.Lock()
	tok, ok := e.tokens[phone]
	e.mu.Unlock()
	if ok {
		return tok
	}
	tok = e.signIn(t, phone)
	e.mu.Lock()
	e.tokens[phone] = tok
	e.mu.Unlock()
	return tok
}

// principal returns the principal of phone's cached token, for setting up
// data through the services.
func (e *env) principal(t *testing.T, phone string) *account.Principal {
	t.Helper()
	p, err := e.accounts.Authenticate(context.Background(), e.token(t, phone))
	if err != nil {
		t.Fatalf("authenticate %s: %v", phone, err)
	}
	return p
}

// unit returns the current unit with the GSO code.
func (e *env) unitByCode(t *testing.T, level area.Level, code string) area.Unit {
	t.Helper()
	u, err := e.areas.UnitByCode(context.Background(), level, code)
	if err != nil {
		t.Fatalf("unit %s: %v", code, err)
	}
	return u
}

// child returns the child of parentID named name (as in "Khu phố 1").
func (e *env) child(t *testing.T, parentID int64, name string) area.Unit {
	t.Helper()
	kids, err := e.areas.Children(context.Background(), parentID, false)
	if err != nil {
		t.Fatalf("children of %d: %v", parentID, err)
	}
	for _, k := range kids {
		if k.Name == name || k.FullName == name {
			return k.Unit
		}
	}
	t.Fatalf("unit %d has no child %q", parentID, name)
	return area.Unit{}
}

func urlQuery(s string) string { return url.QueryEscape(s) }

func decodeBody(res *http.Response, v any) error {
	return json.NewDecoder(res.Body).Decode(v)
}

// jv is a decoded JSON value with path access: get("items.0.id").
type jv struct{ v any }

func (j jv) get(path string) jv {
	v := j.v
	if path == "" {
		return jv{v}
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return jv{}
			}
			v = x[i]
		default:
			return jv{}
		}
	}
	return jv{v}
}

func (j jv) str(path string) string {
	s, _ := j.get(path).v.(string)
	return s
}

func (j jv) num(path string) int64 {
	f, _ := j.get(path).v.(float64)
	return int64(f)
}

func (j jv) list(path string) []jv {
	a, _ := j.get(path).v.([]any)
	out := make([]jv, len(a))
	for i, x := range a {
		out[i] = jv{x}
	}
	return out
}

func (j jv) has(path string) bool { return j.get(path).v != nil }

// --- a testing.TB that outlives tests, for dbtest ---

type tbFailure string
type tbSkip string

// sharedTB lets dbtest open databases that live until TestMain ends. Only
// the methods dbtest uses are implemented; Fatalf and Skipf panic with a
// value buildEnv recovers.
type sharedTB struct {
	testing.TB // nil: any other method panics, which buildEnv reports

	mu       sync.Mutex
	cleanups []func()
}

var shared = &sharedTB{}

func (s *sharedTB) Helper()                           {}
func (s *sharedTB) Name() string                      { return "web-api-env" }
func (s *sharedTB) Logf(format string, args ...any)   {}
func (s *sharedTB) Fatalf(format string, args ...any) { panic(tbFailure(fmt.Sprintf(format, args...))) }
func (s *sharedTB) Fatal(args ...any)                 { panic(tbFailure(fmt.Sprint(args...))) }
func (s *sharedTB) Skipf(format string, args ...any)  { panic(tbSkip(fmt.Sprintf(format, args...))) }
func (s *sharedTB) Skip(args ...any)                  { panic(tbSkip(fmt.Sprint(args...))) }

func (s *sharedTB) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

func (s *sharedTB) TempDir() string {
	dir, err := os.MkdirTemp("", "trothu-web-test-")
	if err != nil {
		panic(tbFailure("temp dir: " + err.Error()))
	}
	s.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// cleanup runs the registered functions, last first.
func (s *sharedTB) cleanup() {
	s.mu.Lock()
	fs := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
