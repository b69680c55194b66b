package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	app_ "github.com/trothu/trothu/internal/app"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/web"
)

// noticeFanoutResult is the JSON line of `trothu bench notice-fanout`.
type noticeFanoutResult struct {
	Scenario   string `json:"scenario"`
	Engine     string `json:"engine"`
	Households int    `json:"households"`
	WardSize   int    `json:"ward_households"`
	Acks       int    `json:"acks"`
	Clients    int    `json:"clients"`

	BuildSeconds float64 `json:"build_seconds"`
	// Materialising one delivery per household of the province (the
	// notice's INSERT … SELECT, its bookkeeping and its first job, in one
	// committed transaction), against a bare INSERT … SELECT of the same
	// rows into a table without keys in the same run.
	MaterialiseSeconds      float64 `json:"materialise_seconds"`
	FloorMaterialiseSeconds float64 `json:"floor_materialise_seconds"`
	Ratio                   float64 `json:"ratio"`
	// Acknowledgements over HTTP (POST /api/v1/notices/{id}/ack, bearer
	// tokens of distinct households, each durably committed), against
	// GET /healthz on the same server and clients.
	AcksPerSec      float64 `json:"acks_per_sec"`
	AckP50Ms        float64 `json:"ack_p50_ms"`
	AckP99Ms        float64 `json:"ack_p99_ms"`
	FloorHTTPPerSec float64 `json:"floor_http_per_sec"`
	RatioAck        float64 `json:"ratio_ack"` // floor ÷ measured: how many times slower than an empty request
	// ClientCPUNsPerRequest is the load generator's CPU per acknowledgement
	// (it runs in a process of its own on the same machine).
	ClientCPUNsPerRequest float64 `json:"client_cpu_ns_per_request"`
	// The reach roll-up of one ward (Reach with unit_id), against a bare
	// COUNT over the same range.
	RollupP50Ms      float64 `json:"rollup_p50_ms"`
	RollupP99Ms      float64 `json:"rollup_p99_ms"`
	FloorRollupP50Ms float64 `json:"floor_rollup_p50_ms"`
	RatioRollup      float64 `json:"ratio_rollup"`
}

// benchNoticeFanout runs `trothu bench notice-fanout`: it builds a
// synthetic province (wards of 10 khu phố × 10 tổ × 200 households)
// set-based, sends one announcement to the whole province, acknowledges
// it over HTTP from many households at once, and times the reach roll-up
// of one ward.
func benchNoticeFanout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if isLoadGenerator(args) {
		return benchHTTPLoadGenerator(args, os.Stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("bench notice-fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	households := fs.Int("households", 1000000, "households in the synthetic province (rounded up to whole wards)")
	acks := fs.Int("acks", 20000, "acknowledgements to send over HTTP (each from its own household)")
	clients := fs.Int("clients", 64, "keep-alive connections of the load generator, one request in flight on each")
	poll := fs.Duration("client-poll", 0, "the load generator looks for answers this often instead of sleeping in epoll_wait (0: it sleeps there)")
	rollups := fs.Int("rollups", 50, "roll-ups of one ward to time")
	database := fs.String("database", "", "database URL (default: a fresh temporary SQLite file)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the acknowledgement phase (the server's process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	const wardSize = 20000
	wards := (*households + wardSize - 1) / wardSize
	*acks = min(*acks, wards*wardSize)
	url := *database
	if url == "" {
		dir, err := os.MkdirTemp("", "trothu-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		url = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	d, err := db.Open(ctx, url, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	if _, _, err := d.Migrate(ctx); err != nil {
		return err
	}
	res := noticeFanoutResult{Scenario: "notice-fanout", Engine: string(d.Dialect), Households: wards * wardSize, WardSize: wardSize, Acks: *acks, Clients: *clients}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "notice-fanout: "+format+"\n", a...) }

	start := time.Now()
	logf("building %d wards × %d households on %s…", wards, wardSize, d.Dialect)
	w, err := buildProvince(ctx, d, wards, *acks)
	if err != nil {
		return err
	}
	res.BuildSeconds = time.Since(start).Seconds()
	logf("built in %.1f s", res.BuildSeconds)

	quiet := slog.New(slog.DiscardHandler)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	services, err := app_.New(ctx, d, app_.Config{SecretKey: key, Logger: quiet})
	if err != nil {
		return err
	}
	admin := &account.Principal{AccountID: w.admin, Name: "Bench", Grants: []account.Grant{{Role: account.RoleAdmin, UnitID: w.country, UnitPath: w.countryPath}}}

	// Floor: the same rows into a table without keys.
	var all int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM households").Scan(&all); err != nil { // warm the cache for both
		return err
	}
	lo, hi := db.SubtreeRange(w.provincePath)
	t0 := time.Now()
	err = d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE TABLE bench_floor (notice_id BIGINT NOT NULL, unit_id BIGINT NOT NULL, household_id BIGINT NOT NULL)"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO bench_floor(notice_id, unit_id, household_id) SELECT 0, h.unit_id, h.id FROM households h WHERE h.unit_path >= ? AND h.unit_path < ?", lo, hi)
		return err
	})
	if err != nil {
		return err
	}
	res.FloorMaterialiseSeconds = time.Since(t0).Seconds()
	logf("floor: bare INSERT … SELECT of %d rows in %.3f s", res.Households, res.FloorMaterialiseSeconds)
	t0 = time.Now()
	n, err := services.Notices.Create(ctx, admin, notice.Input{UnitID: w.province, Title: "Thông báo toàn tỉnh", Body: "Benchmark.", Priority: notice.Urgent, AckRequired: true})
	if err != nil {
		return err
	}
	res.MaterialiseSeconds = time.Since(t0).Seconds()
	res.Ratio = res.MaterialiseSeconds / res.FloorMaterialiseSeconds
	logf("notice %d: %d deliveries materialised in %.3f s (ratio %.2f)", n.ID, n.Targeted, res.MaterialiseSeconds, res.Ratio)
	if n.Targeted != res.Households {
		return fmt.Errorf("targeted %d households, want %d", n.Targeted, res.Households)
	}
	if err := d.Analyze(ctx, "notice_deliveries"); err != nil {
		return err
	}

	if err := benchAcks(ctx, d, services, w, n.ID, *acks, *clients, *poll, *cpuProfile, &res, logf, stderr); err != nil {
		return err
	}

	// Roll-up of the first ward (where the acknowledgements are).
	times := make([]time.Duration, 0, *rollups)
	floors := make([]time.Duration, 0, *rollups)
	wlo, whi := db.SubtreeRange(w.wardPath)
	for i := 0; i < *rollups; i++ {
		t0 := time.Now()
		rc, err := services.Notices.Reach(ctx, admin, n.ID, w.ward)
		if err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		if rc.Targeted != wardSize {
			return fmt.Errorf("ward roll-up: %d targeted, want %d", rc.Targeted, wardSize)
		}
		t0 = time.Now()
		var c int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM units u CROSS JOIN notice_deliveries d WHERE u.path >= ? AND u.path < ? AND d.notice_id = ? AND d.unit_id = u.id", wlo, whi, n.ID).Scan(&c); err != nil {
			return err
		}
		floors = append(floors, time.Since(t0))
	}
	res.RollupP50Ms, res.RollupP99Ms = ms(pctl(times, 50)), ms(pctl(times, 99))
	res.FloorRollupP50Ms = ms(pctl(floors, 50))
	res.RatioRollup = res.RollupP50Ms / res.FloorRollupP50Ms
	logf("ward roll-up: p50 %.1f ms, p99 %.1f ms (bare count %.1f ms)", res.RollupP50Ms, res.RollupP99Ms, res.FloorRollupP50Ms)
	return printJSON(stdout, res)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pctl(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

// benchAcks serves the real handler on a local port and has a load
// generator process send acks acknowledgements, one from each household's
// token, over clients connections; GET /healthz as many times over the same
// connections is the floor.
func benchAcks(ctx context.Context, d *db.DB, services *app_.App, w province, noticeID int64, acks, clients int, poll time.Duration, cpuProfile string, res *noticeFanoutResult, logf func(string, ...any), stderr io.Writer) error {
	srv, err := web.New(web.Config{}, web.Deps{DB: d, Accounts: services.Accounts, Areas: services.Areas, Logger: slog.New(slog.DiscardHandler),
		Jobs: services.Jobs, Broker: services.Broker, Groups: services.Groups, Notices: services.Notices, Requests: services.Requests})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	addr := ln.Addr().String()
	dir, err := os.MkdirTemp("", "trothu-bench-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	floorFile, ackFile := filepath.Join(dir, "healthz"), filepath.Join(dir, "acks")
	if err := writeRequests(floorFile, 1, func(int) []byte { return rawRequest("GET", addr, "/healthz", nil, "") }); err != nil {
		return err
	}
	path := fmt.Sprintf("/api/v1/notices/%d/ack", noticeID)
	err = writeRequests(ackFile, acks, func(i int) []byte {
		return rawRequest("POST", addr, path, []string{"Authorization: Bearer " + w.tokens[i]}, "")
	})
	if err != nil {
		return err
	}
	gen, err := startHTTPLoad(ctx, "notice-fanout", addr, clients, poll, stderr)
	if err != nil {
		return err
	}
	defer gen.quit()

	cpu0 := cpuTime()
	floor, err := gen.run(floorFile, acks, 0)
	floorCPU := cpuTime() - cpu0
	if err != nil {
		return err
	}
	if err := floor.err(); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	res.FloorHTTPPerSec = floor.PerSec
	logf("floor: GET /healthz %.0f/s over %d connections of a load generator process (CPU a request: server %.0f ns, generator %.0f ns)",
		floor.PerSec, clients, perRequest(floorCPU, floor), floor.cpuNsPerRequest())
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	cpu0 = cpuTime()
	run, err := gen.run(ackFile, acks, 0)
	runCPU := cpuTime() - cpu0
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	if err := run.err(); err != nil {
		return fmt.Errorf("acknowledgements: %w", err)
	}
	res.AcksPerSec, res.AckP50Ms, res.AckP99Ms = run.PerSec, run.P50Ms, run.P99Ms
	res.RatioAck = floor.PerSec / run.PerSec
	res.ClientCPUNsPerRequest = run.cpuNsPerRequest()
	var acked int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ? AND acked_at IS NOT NULL", noticeID).Scan(&acked); err != nil {
		return err
	}
	if acked != acks || run.OK != int64(acks) {
		return fmt.Errorf("acknowledged %d households (%d answered 2xx), want %d", acked, run.OK, acks)
	}
	logf("acks: %.0f/s, p50 %.1f ms, p99 %.1f ms over HTTP (%d connections); %d recorded; CPU a request: server %.0f ns, generator %.0f ns",
		run.PerSec, res.AckP50Ms, res.AckP99Ms, clients, acked, perRequest(runCPU, run), res.ClientCPUNsPerRequest)
	return nil
}

// province is the synthetic data's handles.
type province struct {
	country, province, ward   int64
	countryPath, provincePath string
	wardPath                  string
	admin                     int64
	tokens                    []string // bearer tokens of residents of distinct households
}

// buildProvince creates the tree and its households with a handful of
// INSERT … SELECT statements, then residents with accounts and API
// sessions for the first acks households.
func buildProvince(ctx context.Context, d *db.DB, wards, acks int) (province, error) {
	var base int64
	if err := d.QueryRow(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM units").Scan(&base); err != nil {
		return province{}, err
	}
	p := province{country: base, province: base + 1, ward: base + 2}
	p.countryPath = fmt.Sprintf("/%d/", base)
	p.provincePath = fmt.Sprintf("%s%d/", p.countryPath, base+1)
	p.wardPath = fmt.Sprintf("%s%d/", p.provincePath, base+2)
	wardBase := base + 1              // ward w (1…) has id wardBase + w
	kpBase := wardBase + int64(wards) // khu phố k (1…10) of ward w: kpBase + (w-1)*10 + k
	toBase := kpBase + int64(wards)*10
	seq := func(n int) string {
		return fmt.Sprintf("WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %d) ", n)
	}
	wlo, whi := db.SubtreeRange(p.wardPath)
	const wardSize = 20000
	resident := "INSERT INTO residents(household_id, unit_path, full_name, name_fold, relation, created_at, updated_at) SELECT h.id, h.unit_path, 'Cư dân ' || h.id, 'cu dan ' || h.id, 'Chủ hộ', 1, 1 FROM households h "
	unitCols := "INSERT INTO units(id, parent_id, path, level, code, name, full_name, kind, name_fold, created_at) "
	stmts := []string{
		fmt.Sprintf(unitCols+"VALUES (%d, NULL, '%s', 'country', NULL, 'Bench', 'Bench', 'country', 'bench', 1)", base, p.countryPath),
		fmt.Sprintf(unitCols+"VALUES (%d, %d, '%s', 'province', 'B1', 'Tỉnh thử', 'Tỉnh thử', 'province', 'tinh thu', 1)", base+1, base, p.provincePath),
		seq(wards) + fmt.Sprintf(unitCols+"SELECT %d + n, %d, '%s' || (%d + n) || '/', 'commune', NULL, 'Phường ' || n, 'Phường ' || n, 'ward', 'phuong ' || n, 1 FROM seq",
			wardBase, base+1, p.provincePath, wardBase),
		seq(10) + fmt.Sprintf(unitCols+"SELECT %d + (w.id - %d - 1) * 10 + s.n, w.id, w.path || (%d + (w.id - %d - 1) * 10 + s.n) || '/', 'neighbourhood', NULL, 'Khu phố ' || s.n, 'Khu phố ' || s.n, 'khu_pho', 'khu pho ' || s.n, 1 FROM units w CROSS JOIN seq s WHERE w.parent_id = %d",
			kpBase, wardBase, kpBase, wardBase, base+1),
		seq(10) + fmt.Sprintf(unitCols+"SELECT %d + (k.id - %d - 1) * 10 + s.n, k.id, k.path || (%d + (k.id - %d - 1) * 10 + s.n) || '/', 'group', NULL, 'Tổ ' || s.n, 'Tổ ' || s.n, 'to_dan_pho', 'to ' || s.n, 1 FROM units k CROSS JOIN seq s WHERE k.level = 'neighbourhood' AND k.id > %d AND k.id <= %d",
			toBase, kpBase, toBase, kpBase, kpBase, toBase),
		seq(200) + fmt.Sprintf("INSERT INTO households(unit_id, unit_path, address, address_fold, flags, created_at, updated_at) SELECT t.id, t.path, 'Số ' || s.n || ' đường ' || t.id, 'so ' || s.n || ' duong ' || t.id, CASE WHEN s.n %% 6 = 0 THEN 4 ELSE 0 END, 1, 1 FROM units t CROSS JOIN seq s WHERE t.level = 'group' AND t.id > %d ORDER BY t.path, s.n", toBase),
		// Residents with accounts for acks households: the first ward's first.
		fmt.Sprintf(resident+"WHERE h.unit_path >= '%s' AND h.unit_path < '%s' ORDER BY h.id LIMIT %d", wlo, whi, min(acks, wardSize)),
		fmt.Sprintf(resident+"WHERE h.unit_path < '%s' OR h.unit_path >= '%s' ORDER BY h.id LIMIT %d", wlo, whi, max(acks-wardSize, 0)),
		// One bench resident a household: its head. (A correlated MIN here
		// took PostgreSQL 13.6 s, planned on the new table's empty statistics.)
		"UPDATE households SET head_resident_id = r.id FROM residents r WHERE r.household_id = households.id AND r.full_name LIKE 'Cư dân %'",
		"INSERT INTO accounts(phone, name, resident_id, created_at) SELECT '+849' || (10000000 + r.id), r.full_name, r.id, 1 FROM residents r WHERE r.full_name LIKE 'Cư dân %'",
		"INSERT INTO accounts(phone, name, created_at) VALUES ('+84899999999', 'Quản trị bench', 1)",
	}
	for _, q := range stmts {
		if err := d.Write(ctx, func(tx *db.Tx) error { _, err := tx.Exec(ctx, q); return err }); err != nil {
			return province{}, fmt.Errorf("build: %w\n%s", err, q)
		}
	}
	if err := d.QueryRow(ctx, "SELECT id FROM accounts WHERE phone = '+84899999999'").Scan(&p.admin); err != nil {
		return province{}, err
	}
	rows, err := d.Query(ctx, "SELECT a.id FROM accounts a JOIN residents r ON r.id = a.resident_id WHERE r.full_name LIKE 'Cư dân %' ORDER BY a.id")
	if err != nil {
		return province{}, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return province{}, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return province{}, err
	}
	now := time.Now().UnixMilli()
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		var sb strings.Builder
		sb.WriteString("INSERT INTO sessions(id_hash, account_id, kind, created_at, expires_at, last_seen_at) VALUES ")
		for i, id := range chunk {
			var b [32]byte
			_, _ = rand.Read(b[:])
			tok := base64.RawURLEncoding.EncodeToString(b[:])
			h := sha256.Sum256([]byte(tok))
			p.tokens = append(p.tokens, tok)
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "('%s', %d, 'api', %d, %d, %d)", hex.EncodeToString(h[:]), id, now, now+24*3600*1000, now)
		}
		q := sb.String()
		if err := d.Write(ctx, func(tx *db.Tx) error { _, err := tx.Exec(ctx, q); return err }); err != nil {
			return province{}, err
		}
	}
	if err := d.Analyze(ctx, ""); err != nil {
		return province{}, err
	}
	return p, nil
}
