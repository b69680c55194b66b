package account

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// The unit tree of every test: root /1/, wards A /1/2/ and B /1/3/, and a
// khu phố /1/2/4/ in ward A.
const (
	rootID, wardA, wardB, kp4       = 1, 2, 3, 4
	rootPath, pathA, pathB, pathKP4 = "/1/", "/1/2/", "/1/3/", "/1/2/4/"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// fakeClock is the injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// smsBox captures the messages sent: the SMS gateway is an external
// collaborator.
type smsBox struct {
	mu   sync.Mutex
	sent []sms
}

type sms struct{ phone, text string }

func (b *smsBox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	b.sent = append(b.sent, sms{phone, text})
	b.mu.Unlock()
	return nil
}

var codeRE = regexp.MustCompile(`là (\d{6})\.`)

// lastCode returns the code of the last message sent to phone.
func (b *smsBox) lastCode(t *testing.T, phone string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.sent) - 1; i >= 0; i-- {
		if b.sent[i].phone == phone {
			m := codeRE.FindStringSubmatch(b.sent[i].text)
			if m == nil {
				t.Fatalf("message %q carries no code", b.sent[i].text)
			}
			return m[1]
		}
	}
	t.Fatalf("no message sent to %s", phone)
	return ""
}

func (b *smsBox) count() int { b.mu.Lock(); defer b.mu.Unlock(); return len(b.sent) }

// residentMap stands in for the area room.
type residentMap map[string]ResidentRef

func (m residentMap) ResidentByPhone(_ context.Context, phone string) (ResidentRef, error) {
	r, ok := m[phone]
	if !ok {
		return ResidentRef{}, apperr.NotFoundf("cư dân", "Resident")
	}
	return r, nil
}

type fixture struct {
	t     *testing.T
	d     *db.DB
	s     *Service
	clock *fakeClock
	sms   *smsBox
	res   residentMap
}

// The resident of every test: Trần Thị Bình, household 10 in khu phố 4.
const residentPhone = "+84912345678"

func newFixture(t *testing.T, d *db.DB, tweak ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, d: d, clock: &fakeClock{t: time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)}, sms: &smsBox{},
		res: residentMap{residentPhone: {ResidentID: 100, HouseholdID: 10, UnitID: kp4, UnitPath: pathKP4, Name: "Trần Thị Bình"}}}
	ctx := context.Background()
	now := db.Now()
	err := d.Write(ctx, func(tx *db.Tx) error {
		for _, u := range []struct {
			id     int64
			parent any
			path   string
			level  string
			name   string
		}{
			{rootID, nil, rootPath, "province", "Thành phố Hồ Chí Minh"},
			{wardA, int64(rootID), pathA, "ward", "Phường Bến Thành"},
			{wardB, int64(rootID), pathB, "ward", "Phường Sài Gòn"},
			{kp4, int64(wardA), pathKP4, "quarter", "Khu phố 4"},
		} {
			if _, err := tx.Exec(ctx, `INSERT INTO units(id, parent_id, path, level, name, full_name, kind, name_fold, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.id, u.parent, u.path, u.level, u.name, u.name, u.level, u.name, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO households(id, unit_id, unit_path, address, address_fold, created_at, updated_at)
			VALUES (10, ?, ?, '12 Lê Lợi', '12 le loi', ?, ?)`, kp4, pathKP4, now, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO residents(id, household_id, unit_path, full_name, name_fold, phone, created_at, updated_at)
			VALUES (100, 10, ?, 'Trần Thị Bình', 'tran thi binh', ?, ?, ?)`, pathKP4, residentPhone, now, now)
		return err
	})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	cfg := Config{
		SMS: f.sms, Now: f.clock.Now, Residents: f.res, SecretKey: testKey,
		Password: PasswordConfig{Argon2: Argon2Params{Memory: 1024, Time: 1, Threads: 1}},
	}
	for _, fn := range tweak {
		fn(&cfg)
	}
	f.s = New(d, cfg)
	return f
}

// account creates an account with the given grants (role, unit id).
func (f *fixture) account(phone, name string, grants ...any) Account {
	f.t.Helper()
	ctx := context.Background()
	a, err := f.s.CreateAccountSystem(ctx, AccountInput{Phone: phone, Name: name})
	if err != nil {
		f.t.Fatalf("create %s: %v", phone, err)
	}
	for i := 0; i+1 < len(grants); i += 2 {
		if _, err := f.s.GrantRoleSystem(ctx, a.ID, grants[i].(Role), int64(grants[i+1].(int))); err != nil {
			f.t.Fatalf("grant %v: %v", grants[i], err)
		}
	}
	return a
}

// principal returns the principal of the account as Authenticate builds it.
func (f *fixture) principal(a Account) *Principal {
	f.t.Helper()
	p, err := f.s.principal(context.Background(), a.ID, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// auditCount counts audit rows with the action.
func (f *fixture) auditCount(action string) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = ?", action).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// lastAudit returns the newest audit row with the action.
func (f *fixture) lastAudit(action string) (actorID int64, subjectID, unitPath, ip, detail string) {
	f.t.Helper()
	err := f.d.QueryRow(context.Background(), `SELECT COALESCE(actor_id, 0), subject_id, unit_path, ip, detail FROM audit_log
		WHERE action = ? ORDER BY id DESC LIMIT 1`, action).Scan(&actorID, &subjectID, &unitPath, &ip, &detail)
	if err != nil {
		f.t.Fatalf("audit %s: %v", action, err)
	}
	return
}

func wantCode(t *testing.T, err error, want apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != want {
		t.Fatalf("error %v: got code %q, want %q", err, got, want)
	}
}
