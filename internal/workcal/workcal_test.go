package workcal

import (
	"testing"
	"time"
)

func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, Zone) }

func TestLunarKnownDates(t *testing.T) {
	cases := []struct {
		name string
		got  time.Time
		want string
	}{
		{"Tết 2023", Tet(2023), "2023-01-22"},
		{"Tết 2024", Tet(2024), "2024-02-10"},
		{"Tết 2025", Tet(2025), "2025-01-29"},
		{"Tết 2026", Tet(2026), "2026-02-17"},
		{"Tết 2027", Tet(2027), "2027-02-06"},
		{"Tết 2007 (a day before China's, at UTC+7)", Tet(2007), "2007-02-17"},
		{"Giỗ Tổ 2024", HungKings(2024), "2024-04-18"},
		{"Giỗ Tổ 2025", HungKings(2025), "2025-04-07"},
		{"Giỗ Tổ 2026", HungKings(2026), "2026-04-26"},
	}
	for _, c := range cases {
		if g := c.got.Format(time.DateOnly); g != c.want {
			t.Errorf("%s: got %s, want %s", c.name, g, c.want)
		}
	}
	// 2025 has a leap 6th month (tháng 6 nhuận starts 25 July 2025).
	y, m, d, ok := LunarToSolar(2025, 6, 1, true)
	if !ok || y != 2025 || m != 7 || d != 25 {
		t.Errorf("leap month 6 of 2025: got %d-%d-%d ok=%v, want 2025-7-25", y, m, d, ok)
	}
	if _, _, _, ok := LunarToSolar(2026, 6, 1, true); ok {
		t.Errorf("leap month 6 of 2026: got ok, want none")
	}
}

func TestHolidays2025(t *testing.T) {
	c := Default()
	want := map[string]bool{
		"2025-01-01": true, "2025-01-28": true, "2025-01-29": true, "2025-01-30": true, "2025-01-31": true,
		"2025-02-01": true, // mùng 4, a Saturday
		"2025-02-03": true, // its compensatory day
		"2025-04-07": true, "2025-04-30": true, "2025-05-01": true, "2025-09-01": true, "2025-09-02": true,
	}
	got := map[string]bool{}
	for _, h := range c.Holidays(2025) {
		got[h.Date.Format(time.DateOnly)] = true
	}
	for d := range want {
		if !got[d] {
			t.Errorf("holidays 2025: %s missing; got %v", d, got)
		}
	}
	for d := range got {
		if !want[d] {
			t.Errorf("holidays 2025: got extra %s", d)
		}
	}
}

func TestDeadlineOverTetWeek(t *testing.T) {
	c := Default()
	// Filed Monday 27 Jan 2025 at 16:00: one hour that day; 28 Jan – 1 Feb
	// is Tết, 2 Feb a Sunday, 3 Feb the compensatory day for mùng 4; the
	// remaining 7 hours run from Tuesday 4 Feb 7:30 to 16:00.
	got := c.AddWorkingHours(at(2025, 1, 27, 16, 0), 8*time.Hour)
	if want := at(2025, 2, 4, 16, 0); !got.Equal(want) {
		t.Errorf("8 working hours from 27/01/2025 16:00: got %v, want %v", got, want)
	}
	if d := c.WorkingHoursBetween(at(2025, 1, 27, 16, 0), got); d != 8*time.Hour {
		t.Errorf("working hours between: got %v, want 8h", d)
	}
	// Filed during Tết: the clock starts on the first working day.
	got = c.AddWorkingHours(at(2025, 1, 29, 9, 0), 2*time.Hour)
	if want := at(2025, 2, 4, 9, 30); !got.Equal(want) {
		t.Errorf("2 working hours from mùng 1: got %v, want %v", got, want)
	}
}

func TestDeadlineOverWeekend(t *testing.T) {
	c := Default()
	cases := []struct {
		from time.Time
		d    time.Duration
		want time.Time
	}{
		// Friday 16:30 + 4h: 30 min Friday, 3.5h Monday from 7:30 → 11:00.
		{at(2026, 3, 6, 16, 30), 4 * time.Hour, at(2026, 3, 9, 11, 0)},
		// Saturday night + 1h: Monday 8:30.
		{at(2026, 3, 7, 22, 0), time.Hour, at(2026, 3, 9, 8, 30)},
		// Lunch break is not office time: 11:00 + 1h → 13:30.
		{at(2026, 3, 10, 11, 0), time.Hour, at(2026, 3, 10, 13, 30)},
		// Exactly to the close of a span.
		{at(2026, 3, 10, 7, 30), 4 * time.Hour, at(2026, 3, 10, 11, 30)},
		// 16 hours = two full working days.
		{at(2026, 3, 12, 7, 30), 16 * time.Hour, at(2026, 3, 13, 17, 0)},
	}
	for _, tc := range cases {
		if got := c.AddWorkingHours(tc.from, tc.d); !got.Equal(tc.want) {
			t.Errorf("%v + %v: got %v, want %v", tc.from, tc.d, got, tc.want)
		}
		if got := c.WorkingHoursBetween(tc.from, tc.want); got != tc.d {
			t.Errorf("between %v and %v: got %v, want %v", tc.from, tc.want, got, tc.d)
		}
	}
}

func TestExtraDaysOffAndMakeUpDays(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ExtraDaysOff = []string{"2026-03-09"}      // a Monday off
	cfg.MakeUpWorkingDays = []string{"2026-03-07"} // a Saturday worked
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := c.AddWorkingHours(at(2026, 3, 6, 17, 0), 9*time.Hour)
	// Saturday 7 gives 8h, Monday 9 is off, Tuesday 10 gives the last hour.
	if want := at(2026, 3, 10, 8, 30); !got.Equal(want) {
		t.Errorf("with a make-up Saturday and a Monday off: got %v, want %v", got, want)
	}
	if c.IsWorkingDay(at(2026, 3, 9, 10, 0)) {
		t.Errorf("extra day off: got working, want off")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Hours: map[string][]string{"xyz": {"08:00-09:00"}}},
		{Hours: map[string][]string{"mon": {"09:00-08:00"}}},
		{Hours: map[string][]string{"mon": {"08:00-10:00", "09:00-11:00"}}},
		{Hours: map[string][]string{}},
		{Hours: map[string][]string{"mon": {"08:00-10:00"}}, ExtraDaysOff: []string{"30/4"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): got nil error, want one", cfg)
		}
	}
}

// BenchmarkAddWorkingHours times the two deadlines every filed request
// asks for (8 and 80 working hours from a weekday morning).
//
//	go test -run '^$' -bench BenchmarkAddWorkingHours ./internal/workcal/
func BenchmarkAddWorkingHours(b *testing.B) {
	c := Default()
	t := time.Date(2026, time.November, 27, 9, 15, 0, 0, Zone)
	for i := range b.N {
		at := t.Add(time.Duration(i%600) * time.Minute)
		ack, resolve := c.AddWorkingHours(at, 8*time.Hour), c.AddWorkingHours(at, 80*time.Hour)
		if !ack.After(at) || !resolve.After(ack) {
			b.Fatalf("deadlines %v, %v from %v", ack, resolve, at)
		}
	}
}
