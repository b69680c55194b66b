package notice_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/notify"
)

var testKey = []byte("notice-test-secret-key-of-32-bytes!!")

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// smsLog records every SMS accepted, and can refuse some.
type smsLog struct {
	mu     sync.Mutex
	sent   map[string]int
	failAt int // refuse the failAt-th call (1-based); 0: never
	calls  int
}

func (s *smsLog) Send(ctx context.Context, phone, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == s.failAt {
		return fmt.Errorf("gateway busy")
	}
	if s.sent == nil {
		s.sent = map[string]int{}
	}
	s.sent[phone]++
	return nil
}

func (s *smsLog) count(phone string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.sent[phone] }
func (s *smsLog) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.sent {
		n += c
	}
	return n
}

// world is a small ward: ward 3 › khu phố 4 (tổ 6, tổ 7) and khu phố 5
// (tổ 8), perTo households in each tổ, each with a head whose phone is
// 09xxxxxxxx; every third household has no smartphone.
type world struct {
	d          *db.DB
	clk        *clock
	sms        *smsLog
	q          *jobs.Queue
	svc        *notice.Service
	ward       int64
	kp1, kp2   int64
	to1, to2   int64
	to3        int64
	households map[int64][]int64 // by tổ
	phones     map[int64]string  // household → head phone
	official   *account.Principal
	kpHead     *account.Principal
	groupHead  *account.Principal
	volunteer  *account.Principal
	resident   *account.Principal // member of households[to1][0]
	resident2  *account.Principal // member of households[to1][0] too
	outsider   *account.Principal // member of households[to3][0]
}

const (
	pCountry = "/1/"
	pWard    = "/1/2/3/"
	pKp1     = "/1/2/3/4/"
	pKp2     = "/1/2/3/5/"
	pTo1     = "/1/2/3/4/6/"
	pTo2     = "/1/2/3/4/7/"
	pTo3     = "/1/2/3/5/8/"
)

func newWorld(t testing.TB, d *db.DB, perTo int) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{d: d, clk: &clock{t: time.Now().UTC().Add(time.Minute).Truncate(time.Millisecond)}, sms: &smsLog{}, households: map[int64][]int64{}, phones: map[int64]string{},
		ward: 3, kp1: 4, kp2: 5, to1: 6, to2: 7, to3: 8}
	units := []struct {
		id, parent        int64
		path, level, name string
	}{
		{1, 0, pCountry, "country", "Việt Nam"}, {2, 1, "/1/2/", "province", "Thành phố Hồ Chí Minh"}, {3, 2, pWard, "commune", "Phường Bến Thành"},
		{4, 3, pKp1, "neighbourhood", "Khu phố 1"}, {5, 3, pKp2, "neighbourhood", "Khu phố 2"},
		{6, 4, pTo1, "group", "Tổ 1"}, {7, 4, pTo2, "group", "Tổ 2"}, {8, 5, pTo3, "group", "Tổ 3"},
	}
	err := d.Write(ctx, func(tx *db.Tx) error {
		for _, u := range units {
			var parent any
			if u.parent != 0 {
				parent = u.parent
			}
			if _, err := tx.Exec(ctx, `INSERT INTO units(id, parent_id, path, level, name, full_name, kind, name_fold, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				u.id, parent, u.path, u.level, u.name, u.name, u.level, u.name, 1); err != nil {
				return err
			}
		}
		n := 0
		for _, to := range []struct {
			id   int64
			path string
		}{{6, pTo1}, {7, pTo2}, {8, pTo3}} {
			for i := 0; i < perTo; i++ {
				n++
				flags := 0
				if n%3 == 0 {
					flags = int(area.FlagNoSmartphone)
				}
				var hid, rid int64
				if err := tx.QueryRow(ctx, `INSERT INTO households(unit_id, unit_path, code, address, address_fold, flags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, 1) RETURNING id`,
					to.id, to.path, fmt.Sprintf("H%04d", n), fmt.Sprintf("%d Lê Lợi", n), fmt.Sprintf("%d le loi", n), flags).Scan(&hid); err != nil {
					return err
				}
				phone := fmt.Sprintf("+8490%07d", n)
				if err := tx.QueryRow(ctx, `INSERT INTO residents(household_id, unit_path, full_name, name_fold, relation, phone, created_at, updated_at) VALUES (?, ?, ?, ?, 'Chủ hộ', ?, 1, 1) RETURNING id`,
					hid, to.path, fmt.Sprintf("Nguyễn Văn %d", n), fmt.Sprintf("nguyen van %d", n), phone).Scan(&rid); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "UPDATE households SET head_resident_id = ? WHERE id = ?", rid, hid); err != nil {
					return err
				}
				w.households[to.id] = append(w.households[to.id], hid)
				w.phones[hid] = phone
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("world: %v", err)
	}
	w.official = w.account(t, "Cán bộ Phường", account.RoleOfficial, 3, pWard, 0)
	w.kpHead = w.account(t, "Trưởng khu phố 1", account.RoleNeighbourhoodHead, 4, pKp1, 0)
	w.groupHead = w.account(t, "Tổ trưởng tổ 1", account.RoleGroupHead, 6, pTo1, 0)
	w.volunteer = w.account(t, "Tình nguyện viên", account.RoleVolunteer, 6, pTo1, 0)
	w.resident = w.account(t, "Nguyễn Văn 1", account.RoleResident, 6, pTo1, w.headOf(t, w.households[6][0]))
	w.resident2 = w.account(t, "Trần Thị Con", account.RoleResident, 6, pTo1, w.addMember(t, w.households[6][0], pTo1))
	w.outsider = w.account(t, "Lê Văn Ngoài", account.RoleResident, 8, pTo3, w.headOf(t, w.households[8][0]))
	w.start(t, nil)
	return w
}

// start builds the queue and the service over the database, as the
// binary does at start (again after a "restart").
func (w *world) start(t testing.TB, nt *notify.Service) {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	if nt == nil {
		var err error
		nt, err = notify.New(context.Background(), w.d, notify.Config{SMS: w.sms, Logger: quiet})
		if err != nil {
			t.Fatalf("notify: %v", err)
		}
	}
	w.q = jobs.NewQueue(w.d, jobs.Options{Now: w.clk.Now, Logger: quiet, Batch: 1, Workers: 1})
	w.svc = notice.New(w.d, area.NewService(w.d, testKey), w.q, notice.Config{Now: w.clk.Now, Logger: quiet, Notify: nt, BatchSize: 7})
}

func (w *world) headOf(t testing.TB, hid int64) int64 {
	t.Helper()
	var rid int64
	if err := w.d.QueryRow(context.Background(), "SELECT head_resident_id FROM households WHERE id = ?", hid).Scan(&rid); err != nil {
		t.Fatal(err)
	}
	return rid
}

func (w *world) addMember(t testing.TB, hid int64, path string) int64 {
	t.Helper()
	ctx := context.Background()
	var rid int64
	err := w.d.Write(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO residents(household_id, unit_path, full_name, name_fold, relation, created_at, updated_at) VALUES (?, ?, 'Trần Thị Con', 'tran thi con', 'Con', 1, 1) RETURNING id`,
			hid, path).Scan(&rid)
	})
	if err != nil {
		t.Fatal(err)
	}
	return rid
}

var phoneSeq int64
var phoneMu sync.Mutex

func (w *world) account(t testing.TB, name string, role account.Role, unitID int64, path string, residentID int64) *account.Principal {
	t.Helper()
	ctx := context.Background()
	phoneMu.Lock()
	phoneSeq++
	phone := fmt.Sprintf("+8470%07d", phoneSeq)
	phoneMu.Unlock()
	var id int64
	err := w.d.Write(ctx, func(tx *db.Tx) error {
		var res any
		if residentID != 0 {
			res = residentID
		}
		return tx.QueryRow(ctx, "INSERT INTO accounts(phone, name, resident_id, created_at) VALUES (?, ?, ?, 1) RETURNING id", phone, name, res).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return &account.Principal{AccountID: id, Name: name, ResidentID: residentID, Grants: []account.Grant{{Role: role, UnitID: unitID, UnitPath: path}}}
}

// drain runs due jobs until none is left.
func (w *world) drain(t *testing.T) int {
	t.Helper()
	total := 0
	for i := 0; i < 10000; i++ {
		n, err := w.q.RunDue(context.Background())
		if err != nil {
			t.Fatalf("run jobs: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("jobs never drained")
	return total
}

func mustCount(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
