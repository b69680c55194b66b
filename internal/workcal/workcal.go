// Package workcal is the working-hours calendar that request deadlines run
// on: office hours per weekday, Vietnam's public holidays (Labour Code 2019,
// art. 112) with the lunar ones — Tết Nguyên đán and Giỗ Tổ Hùng Vương —
// computed from the lunar calendar at UTC+7, a compensatory day for a
// holiday that falls on a rest day, and the extra days off and make-up
// working days the government announces each year.
//
// Times are instants; the calendar reads them in Asia/Ho_Chi_Minh (UTC+7,
// no daylight saving).
package workcal

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Zone is Asia/Ho_Chi_Minh, which has had no daylight saving since 1975.
var Zone = time.FixedZone("ICT", 7*3600)

// Span is a stretch of office hours within a day, in minutes after
// midnight: [Start, End).
type Span struct{ Start, End int }

// Config is a deployment's calendar as stored and edited by
// administrators. Hours maps a weekday ("mon" … "sun") to spans such as
// "07:30-11:30"; a weekday that is absent is a rest day. Dates are
// "YYYY-MM-DD". SeptemberAdjacent picks the day added to 2 September:
// "before" (1 September, the default) or "after" (3 September).
type Config struct {
	Hours             map[string][]string `json:"hours"`
	ExtraDaysOff      []string            `json:"extra_days_off,omitempty"`
	MakeUpWorkingDays []string            `json:"make_up_working_days,omitempty"`
	SeptemberAdjacent string              `json:"september_adjacent,omitempty"`
}

// DefaultConfig is the state offices' week: Monday to Friday, 7:30–11:30
// and 13:00–17:00.
func DefaultConfig() Config {
	day := []string{"07:30-11:30", "13:00-17:00"}
	return Config{Hours: map[string][]string{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}, SeptemberAdjacent: "before"}
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Holiday is a day off by law, or the compensatory day for one.
type Holiday struct {
	Date time.Time // midnight, in Zone
	Name string    // Vietnamese
}

// Calendar answers working-time questions. It is safe for concurrent use.
type Calendar struct {
	week     [7][]Span
	workday  []Span // hours of a make-up working day that is a rest day
	off      map[string]bool
	makeUp   map[string]bool
	sepAfter bool

	mu       sync.Mutex
	holidays map[int]map[string]string // year → date → name

	// days caches hours by day (days since 1970-01-01 at UTC+7): every
	// filed request asks for two deadlines, and the day's date key,
	// holiday map and lock cost more than the walk itself. The calendar
	// never changes once built, so neither do the entries.
	days  sync.Map // int64 → []Span
	nDays atomic.Int64
}

// maxCachedDays bounds days: deadlines and statistics ask about a few
// years at most.
const maxCachedDays = 20000

// New builds a calendar from cfg. It returns an error naming the bad entry
// for a malformed weekday, span or date, or a week without office hours.
func New(cfg Config) (*Calendar, error) {
	c := &Calendar{off: map[string]bool{}, makeUp: map[string]bool{}, holidays: map[int]map[string]string{}}
	total := 0
	for name, spans := range cfg.Hours {
		wd := slices.Index(dayNames, strings.ToLower(name))
		if wd < 0 {
			return nil, fmt.Errorf("workcal: unknown weekday %q", name)
		}
		for _, s := range spans {
			sp, err := parseSpan(s)
			if err != nil {
				return nil, err
			}
			c.week[wd] = append(c.week[wd], sp)
			total += sp.End - sp.Start
		}
		slices.SortFunc(c.week[wd], func(a, b Span) int { return a.Start - b.Start })
		for i := 1; i < len(c.week[wd]); i++ {
			if c.week[wd][i].Start < c.week[wd][i-1].End {
				return nil, fmt.Errorf("workcal: overlapping hours on %s", name)
			}
		}
	}
	if total == 0 {
		return nil, errors.New("workcal: the week has no office hours")
	}
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if len(c.week[wd]) > 0 {
			c.workday = c.week[wd]
			break
		}
	}
	for _, d := range cfg.ExtraDaysOff {
		if _, err := time.ParseInLocation(time.DateOnly, d, Zone); err != nil {
			return nil, fmt.Errorf("workcal: extra day off %q: want YYYY-MM-DD", d)
		}
		c.off[d] = true
	}
	for _, d := range cfg.MakeUpWorkingDays {
		if _, err := time.ParseInLocation(time.DateOnly, d, Zone); err != nil {
			return nil, fmt.Errorf("workcal: make-up working day %q: want YYYY-MM-DD", d)
		}
		c.makeUp[d] = true
	}
	switch cfg.SeptemberAdjacent {
	case "", "before":
	case "after":
		c.sepAfter = true
	default:
		return nil, fmt.Errorf("workcal: september_adjacent %q: want before or after", cfg.SeptemberAdjacent)
	}
	return c, nil
}

// Default returns the calendar of DefaultConfig.
func Default() *Calendar {
	c, err := New(DefaultConfig())
	if err != nil {
		panic(err) // the default is a constant
	}
	return c
}

func parseSpan(s string) (Span, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, fmt.Errorf("workcal: hours %q: want HH:MM-HH:MM", s)
	}
	start, err1 := parseClock(a)
	end, err2 := parseClock(b)
	if err1 != nil || err2 != nil || end <= start {
		return Span{}, fmt.Errorf("workcal: hours %q: want HH:MM-HH:MM, start before end", s)
	}
	return Span{start, end}, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

func key(t time.Time) string { return t.Format(time.DateOnly) }

func midnight(t time.Time) time.Time {
	t = t.In(Zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Zone)
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, Zone) }

// Tet returns the first day of the lunar year that begins in Gregorian year y.
func Tet(y int) time.Time {
	yy, m, d, _ := LunarToSolar(y, 1, 1, false)
	return date(yy, time.Month(m), d)
}

// HungKings returns Giỗ Tổ Hùng Vương (10th day of the 3rd lunar month) of year y.
func HungKings(y int) time.Time {
	yy, m, d, _ := LunarToSolar(y, 3, 10, false)
	return date(yy, time.Month(m), d)
}

// holidayMap returns the holidays of year y by date, compensatory days included.
func (c *Calendar) holidayMap(y int) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.holidays[y]; ok {
		return h
	}
	var days []Holiday
	add := func(t time.Time, name string) { days = append(days, Holiday{t, name}) }
	add(date(y, time.January, 1), "Tết Dương lịch")
	tet := Tet(y)
	add(tet.AddDate(0, 0, -1), "Tết Nguyên đán (30 Tết)")
	for i := 0; i < 4; i++ {
		add(tet.AddDate(0, 0, i), fmt.Sprintf("Tết Nguyên đán (mùng %d)", i+1))
	}
	add(HungKings(y), "Giỗ Tổ Hùng Vương")
	add(date(y, time.April, 30), "Ngày Chiến thắng 30/4")
	add(date(y, time.May, 1), "Ngày Quốc tế Lao động")
	add(date(y, time.September, 2), "Quốc khánh")
	if c.sepAfter {
		add(date(y, time.September, 3), "Quốc khánh (ngày liền kề)")
	} else {
		add(date(y, time.September, 1), "Quốc khánh (ngày liền kề)")
	}
	slices.SortFunc(days, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	out := map[string]string{}
	for _, h := range days {
		out[key(h.Date)] = h.Name
	}
	// A holiday on a rest day gives the next working day off.
	for _, h := range days {
		if len(c.week[h.Date.Weekday()]) > 0 {
			continue
		}
		d := h.Date.AddDate(0, 0, 1)
		for {
			k := key(d)
			if _, taken := out[k]; !taken && len(c.week[d.Weekday()]) > 0 {
				out[k] = "Nghỉ bù " + h.Name
				break
			}
			d = d.AddDate(0, 0, 1)
		}
	}
	c.holidays[y] = out
	return out
}

// Holidays returns the holidays of year y in date order, compensatory days
// included (extra days off configured by the deployment are not).
func (c *Calendar) Holidays(y int) []Holiday {
	var out []Holiday
	for k, name := range c.holidayMap(y) {
		t, _ := time.ParseInLocation(time.DateOnly, k, Zone)
		if t.Year() == y {
			out = append(out, Holiday{t, name})
		}
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// HolidayName returns the name of the holiday on t's day, or "".
func (c *Calendar) HolidayName(t time.Time) string {
	d := midnight(t)
	return c.holidayMap(d.Year())[key(d)]
}

// hours returns the office hours of day (a midnight in Zone): none on
// holidays and extra days off; a make-up working day has the usual
// weekday hours.
func (c *Calendar) hours(day time.Time) []Span {
	n := (day.Unix() + 7*3600) / 86400 // Zone is UTC+7
	if h, ok := c.days.Load(n); ok {
		return h.([]Span)
	}
	h := c.dayHours(day)
	if c.nDays.Load() < maxCachedDays {
		if _, loaded := c.days.LoadOrStore(n, h); !loaded {
			c.nDays.Add(1)
		}
	}
	return h
}

func (c *Calendar) dayHours(day time.Time) []Span {
	k := key(day)
	if c.makeUp[k] {
		if h := c.week[day.Weekday()]; len(h) > 0 {
			return h
		}
		return c.workday
	}
	if c.off[k] {
		return nil
	}
	if _, ok := c.holidayMap(day.Year())[k]; ok {
		return nil
	}
	return c.week[day.Weekday()]
}

// IsWorkingDay reports whether t's day has office hours.
func (c *Calendar) IsWorkingDay(t time.Time) bool { return len(c.hours(midnight(t))) > 0 }

// maxDays bounds the walk over the calendar (ten years).
const maxDays = 3660

// AddWorkingHours returns the instant d of office time after t: a request
// filed at t with a deadline of d working hours is due then. Time outside
// office hours does not count; a deadline that ends exactly at the close
// of a span is that close. d ≤ 0 returns t.
func (c *Calendar) AddWorkingHours(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	left := d
	day := midnight(t)
	for range maxDays {
		for _, sp := range c.hours(day) {
			start := day.Add(time.Duration(sp.Start) * time.Minute)
			end := day.Add(time.Duration(sp.End) * time.Minute)
			if !end.After(t) {
				continue
			}
			if start.Before(t) {
				start = t
			}
			if avail := end.Sub(start); avail >= left {
				return start.Add(left)
			} else {
				left -= avail
			}
		}
		day = day.Add(24 * time.Hour) // Zone has no daylight saving
	}
	return t.Add(d) // a calendar with no office hours for ten years: fall back to clock time
}

// WorkingHoursBetween returns the office time between a and b (negative
// when b is before a).
func (c *Calendar) WorkingHoursBetween(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.WorkingHoursBetween(b, a)
	}
	var total time.Duration
	day := midnight(a)
	for i := 0; i < maxDays && day.Before(b); i++ {
		for _, sp := range c.hours(day) {
			start := day.Add(time.Duration(sp.Start) * time.Minute)
			end := day.Add(time.Duration(sp.End) * time.Minute)
			if start.Before(a) {
				start = a
			}
			if end.After(b) {
				end = b
			}
			if end.After(start) {
				total += end.Sub(start)
			}
		}
		day = day.Add(24 * time.Hour) // Zone has no daylight saving
	}
	return total
}
