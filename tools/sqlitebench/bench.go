package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	seedRows     = 100_000
	provinces    = 10
	districts    = 20 // per province
	units        = 25 // per district
	gcGoroutines = 64
	gcMaxBatch   = 256
	readers      = 2
)

const schema = `
CREATE TABLE IF NOT EXISTS %[1]s (
	id         INTEGER PRIMARY KEY,
	unit_path  TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	name_fold  TEXT    NOT NULL,
	phone      TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS %[1]s_unit_path ON %[1]s(unit_path);`

const insertSQL = `INSERT INTO %s (unit_path, name, name_fold, phone, created_at) VALUES (?, ?, ?, ?, ?)`

// Result is one measurement.
type Result struct {
	Name      string         `json:"name"`
	Ops       int            `json:"ops"` // calls (or rows for bulk)
	Seconds   float64        `json:"seconds"`
	OpsPerSec float64        `json:"ops_per_s"`
	P50us     float64        `json:"p50_us,omitempty"`
	P99us     float64        `json:"p99_us,omitempty"`
	MaxUs     float64        `json:"max_us,omitempty"`
	CPUSec    float64        `json:"cpu_s"` // process user+sys during the measurement
	Extra     map[string]any `json:"extra,omitempty"`
}

type row struct {
	unitPath, name, nameFold, phone string
	createdAt                       int64
}

var syllables = []string{"an", "binh", "chau", "dung", "giang", "hai", "hoa", "hung", "khanh", "lan",
	"linh", "long", "mai", "minh", "nam", "ngoc", "phuc", "quang", "son", "thanh", "thu", "trang", "tuan", "van", "vinh", "xuan"}
var families = []string{"Nguyen", "Tran", "Le", "Pham", "Hoang", "Huynh", "Phan", "Vu", "Vo", "Dang", "Bui", "Do", "Ho", "Ngo", "Duong", "Ly"}

func unitPath(r *rand.Rand) string {
	return fmt.Sprintf("/p%02d/d%02d/u%03d", r.IntN(provinces), r.IntN(districts), r.IntN(units))
}

func districtPrefix(r *rand.Rand) string {
	return fmt.Sprintf("/p%02d/d%02d/", r.IntN(provinces), r.IntN(districts))
}

func genRow(r *rand.Rand, t int64) row {
	cap1 := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	name := families[r.IntN(len(families))] + " " + cap1(syllables[r.IntN(len(syllables))]) + " " + cap1(syllables[r.IntN(len(syllables))])
	return row{
		unitPath:  unitPath(r),
		name:      name,
		nameFold:  strings.ToLower(name),
		phone:     fmt.Sprintf("+849%08d", r.IntN(100_000_000)),
		createdAt: t,
	}
}

func cpuNow() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// machineCPU reads /proc/stat: CPU seconds busy (all processes, all cores)
// and stolen by the hypervisor. Busy minus our own CPU is the CPU that other
// processes on the machine used during a measurement: the noise indicator.
func machineCPU() (busy, steal float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 {
		return 0, 0
	}
	v := func(i int) float64 { x, _ := strconv.ParseFloat(f[i], 64); return x / 100 } // USER_HZ
	return v(1) + v(2) + v(3) + v(6) + v(7), v(8)
}

// waitQuiet waits (at most b.quietWait) until other processes used under
// 10% of one core for one whole second, so a measurement starts on a quiet
// machine. The machine this was written on is shared with other sessions.
func (b *bench) waitQuiet() {
	if b.quietWait <= 0 {
		return
	}
	deadline := time.Now().Add(b.quietWait)
	for time.Now().Before(deadline) {
		busy0, _ := machineCPU()
		own0 := cpuNow()
		time.Sleep(time.Second)
		busy1, _ := machineCPU()
		if (busy1-busy0)-(cpuNow()-own0) < 0.10 {
			return
		}
	}
}

// noise fills the machine-load fields of res from readings taken at start.
func noise(res *Result, busy0, steal0, own0 float64) {
	busy1, steal1 := machineCPU()
	if res.Extra == nil {
		res.Extra = map[string]any{}
	}
	res.Extra["other_procs_cpu_s"] = max(0, (busy1-busy0)-(cpuNow()-own0))
	res.Extra["steal_s"] = steal1 - steal0
}

func quantiles(res *Result, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Nanoseconds()) / 1e3
	}
	res.P50us, res.P99us, res.MaxUs = q(0.50), q(0.99), q(1)
}

type bench struct {
	w, r      *sql.DB // writer (1 conn) and read pool
	dur       time.Duration
	onStart   func()        // called when the measured window opens
	quietWait time.Duration // see waitQuiet
}

func (b *bench) createTable(ctx context.Context, name string) error {
	_, err := b.w.ExecContext(ctx, fmt.Sprintf(schema, name))
	return err
}

// bulkInsert: n rows, one transaction, one prepared statement.
func (b *bench) bulkInsert(ctx context.Context, table string, n int) (Result, error) {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	rows := make([]row, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range rows {
		rows[i] = genRow(r, base+int64(i)*60)
	}
	b.waitQuiet()
	busy0, steal0 := machineCPU()
	c0, t0 := cpuNow(), time.Now()
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return Result{}, err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, fmt.Sprintf(insertSQL, table))
	if err != nil {
		return Result{}, err
	}
	for _, x := range rows {
		if _, err := st.ExecContext(ctx, x.unitPath, x.name, x.nameFold, x.phone, x.createdAt); err != nil {
			return Result{}, err
		}
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		return Result{}, err
	}
	el := time.Since(t0)
	res := Result{Name: "bulk_insert_100k", Ops: n, Seconds: el.Seconds(), OpsPerSec: float64(n) / el.Seconds(), CPUSec: cpuNow() - c0}
	noise(&res, busy0, steal0, c0)
	return res, nil
}

// parallelLoop runs fn from g goroutines for b.dur (after a short warm-up)
// and records per-call latency.
func (b *bench) parallelLoop(name string, g int, fn func(r *rand.Rand) error) (Result, error) {
	warm := time.Now().Add(200 * time.Millisecond)
	var wg sync.WaitGroup
	lats := make([][]time.Duration, g)
	errs := make([]error, g)
	var start, end time.Time
	var c0 float64
	startCh := make(chan struct{})
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i)+1, 99))
			for time.Now().Before(warm) { // warm-up, not measured
				if err := fn(r); err != nil {
					errs[i] = err
					return
				}
			}
			<-startCh
			l := make([]time.Duration, 0, 1<<16)
			for {
				t := time.Now()
				if !t.Before(end) {
					break
				}
				if err := fn(r); err != nil {
					errs[i] = err
					return
				}
				l = append(l, time.Since(t))
			}
			lats[i] = l
		}(i)
	}
	time.Sleep(time.Until(warm) + 50*time.Millisecond)
	b.waitQuiet()
	if b.onStart != nil {
		b.onStart()
	}
	busy0, steal0 := machineCPU()
	c0, start = cpuNow(), time.Now()
	end = start.Add(b.dur)
	close(startCh)
	wg.Wait()
	el := time.Since(start)
	cpu := cpuNow() - c0
	for _, e := range errs {
		if e != nil {
			return Result{}, fmt.Errorf("%s: %w", name, e)
		}
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	res := Result{Name: name, Ops: len(all), Seconds: el.Seconds(), OpsPerSec: float64(len(all)) / el.Seconds(), CPUSec: cpu}
	quantiles(&res, all)
	noise(&res, busy0, steal0, c0)
	return res, nil
}

func (b *bench) pointReads(ctx context.Context) (Result, error) {
	st, err := b.r.PrepareContext(ctx, `SELECT id, unit_path, name, name_fold, phone, created_at FROM people WHERE id = ?`)
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	return b.parallelLoop("point_read", readers, func(r *rand.Rand) error {
		var (
			id, ca           int64
			up, n, nf, phone string
		)
		return st.QueryRowContext(ctx, 1+r.Int64N(seedRows)).Scan(&id, &up, &n, &nf, &phone, &ca)
	})
}

func (b *bench) rangeRead(ctx context.Context, name, q string, args func(prefix string) []any) (Result, error) {
	st, err := b.r.PrepareContext(ctx, q)
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	var plan []string
	{
		rows, err := b.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args("/p00/d00/")...)
		if err != nil {
			return Result{}, err
		}
		for rows.Next() {
			var id, parent, notused int64
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				return Result{}, err
			}
			plan = append(plan, detail)
		}
		rows.Close()
	}
	var mu sync.Mutex
	var totalRows, calls int64
	res, err := b.parallelLoop(name, readers, func(r *rand.Rand) error {
		rows, err := st.QueryContext(ctx, args(districtPrefix(r))...)
		if err != nil {
			return err
		}
		var n int64
		for rows.Next() {
			var (
				id, ca            int64
				up, nm, nf, phone string
			)
			if err := rows.Scan(&id, &up, &nm, &nf, &phone, &ca); err != nil {
				rows.Close()
				return err
			}
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		mu.Lock()
		totalRows += n
		calls++
		mu.Unlock()
		return rows.Close()
	})
	if err != nil {
		return res, err
	}
	res.Extra["query_plan"] = strings.Join(plan, "; ")
	res.Extra["avg_rows"] = float64(totalRows) / float64(max(calls, 1))
	res.Extra["sql"] = q
	return res, nil
}

// autocommit: single-row INSERTs on the writer connection, each its own
// transaction, so one WAL fsync per row with synchronous=FULL.
func (b *bench) autocommit(ctx context.Context) (Result, error) {
	st, err := b.w.PrepareContext(ctx, fmt.Sprintf(insertSQL, "people"))
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	base := time.Now().Unix()
	return b.parallelLoop("autocommit_insert", 1, func(r *rand.Rand) error {
		x := genRow(r, base)
		_, err := st.ExecContext(ctx, x.unitPath, x.name, x.nameFold, x.phone, x.createdAt)
		return err
	})
}

type gcReq struct {
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// groupCommitter is the product's write path in miniature: one goroutine owns
// the writer connection, takes whatever requests are queued (up to
// gcMaxBatch), runs each inside its own SAVEPOINT in one transaction, and
// commits once (one fsync for the batch).
type groupCommitter struct {
	db      *sql.DB
	reqs    chan gcReq
	batches atomic.Int64
	rows    atomic.Int64
	stopped chan struct{}
}

func newGroupCommitter(db *sql.DB) *groupCommitter {
	g := &groupCommitter{db: db, reqs: make(chan gcReq, gcGoroutines*2), stopped: make(chan struct{})}
	go g.loop()
	return g
}

func (g *groupCommitter) Do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	done := make(chan error, 1)
	g.reqs <- gcReq{fn: fn, done: done}
	return <-done
}

func (g *groupCommitter) Close() { close(g.reqs); <-g.stopped }

func (g *groupCommitter) loop() {
	defer close(g.stopped)
	ctx := context.Background()
	batch := make([]gcReq, 0, gcMaxBatch)
	errs := make([]error, gcMaxBatch)
	for {
		first, ok := <-g.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < gcMaxBatch {
			select {
			case r, ok := <-g.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		err := g.runBatch(ctx, batch, errs)
		for i, r := range batch {
			if err != nil {
				r.done <- err
			} else {
				r.done <- errs[i]
			}
		}
		g.batches.Add(1)
		g.rows.Add(int64(len(batch)))
	}
}

func (g *groupCommitter) runBatch(ctx context.Context, batch []gcReq, errs []error) error {
	tx, err := g.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE via _txlock
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, r := range batch {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT gc"); err != nil {
			return err
		}
		errs[i] = r.fn(ctx, tx)
		if errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO gc"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE gc"); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (b *bench) groupCommit(ctx context.Context) (Result, error) {
	st, err := b.w.PrepareContext(ctx, fmt.Sprintf(insertSQL, "people"))
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	gc := newGroupCommitter(b.w)
	base := time.Now().Unix()
	var b0, r0 int64
	b.onStart = func() { b0, r0 = gc.batches.Load(), gc.rows.Load() }
	defer func() { b.onStart = nil }()
	res, err := b.parallelLoop("group_commit_insert", gcGoroutines, func(r *rand.Rand) error {
		x := genRow(r, base)
		return gc.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.StmtContext(ctx, st).ExecContext(ctx, x.unitPath, x.name, x.nameFold, x.phone, x.createdAt)
			return err
		})
	})
	gc.Close()
	if err != nil {
		return res, err
	}
	nb, nr := gc.batches.Load()-b0, gc.rows.Load()-r0
	res.Extra["avg_batch_rows"] = float64(nr) / float64(max(nb, 1))
	res.Extra["commits_per_s"] = float64(nb) / res.Seconds
	return res, nil
}
