package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	app_ "github.com/trothu/trothu/internal/app"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/web"
)

// requestIntakeResult is the JSON line of `trothu bench request-intake`.
type requestIntakeResult struct {
	Scenario        string  `json:"scenario"`
	Engine          string  `json:"engine"`
	Clients         int     `json:"clients"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Open311 POST /open311/v2/requests.json: API-key check, GPS → ward
	// routing, the request, its timeline entry and its two deadline jobs,
	// durably committed (group commit at synchronous=FULL on SQLite).
	Requests       int     `json:"requests"`
	RequestsPerSec float64 `json:"requests_per_sec"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	Errors         int64   `json:"errors"`
	DeadlineJobs   int     `json:"deadline_jobs"`
	// The search postings are written by the background indexer, which
	// runs during the measurement as in service: IndexBacklog requests were
	// still queued when it ended, indexed IndexDrainSeconds later; Indexed
	// requests have postings then (the bench fails unless all do).
	IndexBacklog      int     `json:"index_backlog"`
	IndexDrainSeconds float64 `json:"index_drain_seconds"`
	Indexed           int     `json:"indexed"`
	FloorPerSec       float64 `json:"floor_requests_per_sec"` // GET /healthz, same server, same clients
	FloorP99Ms        float64 `json:"floor_p99_ms"`
	Ratio             float64 `json:"ratio"` // measured ÷ floor
	// ClientCPUNsPerRequest is the load generator's CPU per request of the
	// intake run (it runs in a process of its own on the same machine).
	ClientCPUNsPerRequest float64 `json:"client_cpu_ns_per_request"`
}

// benchRequestIntake runs `trothu bench request-intake`: the national tree
// and ward boundaries, a server on a loopback port, and many connections of
// a load generator process filing requests at the 9,963 fixture points
// across Vietnam through Open311, against a trivial handler of the same
// server over the same connections in the same run.
func benchRequestIntake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if isLoadGenerator(args) {
		return benchHTTPLoadGenerator(args, os.Stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("bench request-intake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("duration", 10*time.Second, "how long to measure (the floor is measured for as long again)")
	clients := fs.Int("clients", 64, "keep-alive connections of the load generator, one request in flight on each")
	poll := fs.Duration("client-poll", 0, "the load generator looks for answers this often instead of sleeping in epoll_wait (0: it sleeps there)")
	database := fs.String("database", "", "database URL (default: a fresh temporary SQLite file)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the intake run (the server's process) to this file")
	cold := fs.Bool("cold", false, "skip the warm-up (route every fixture point once) and measure with cold routing caches")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "request-intake: "+format+"\n", a...) }
	d, cleanup, err := benchDatabase(ctx, *database)
	if err != nil {
		return err
	}
	defer cleanup()
	quiet := slog.New(slog.DiscardHandler)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	services, err := app_.New(ctx, d, app_.Config{SecretKey: key, Logger: quiet})
	if err != nil {
		return err
	}
	logf("importing the national tree and loading the ward boundaries on %s…", d.Dialect)
	if _, err := services.Areas.ImportNational(ctx, nil, nil); err != nil {
		return err
	}
	ix, err := geo.LoadEmbedded()
	if err != nil {
		return err
	}
	points, err := geo.FixturePoints()
	if err != nil {
		return err
	}
	apiKey, err := services.Requests.CreateAPIKey(ctx, nil, "bench", true)
	if err != nil {
		return err
	}
	srv, err := web.New(web.Config{}, web.Deps{DB: d, Accounts: services.Accounts, Areas: services.Areas, Geo: ix, Logger: quiet, Jobs: services.Jobs, Requests: services.Requests})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	addr := ln.Addr().String()
	dir, err := os.MkdirTemp("", "trothu-bench-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	floorFile, intakeFile := filepath.Join(dir, "healthz"), filepath.Join(dir, "intake")
	if err := writeRequests(floorFile, 1, func(int) []byte { return rawRequest("GET", addr, "/healthz", nil, "") }); err != nil {
		return err
	}
	// Request k files at fixture point k×7919 mod len (7919 is prime, so
	// every point in turn, scattered over the country), with a description
	// of its own from the search bench's words, streets and house numbers,
	// so that its search postings land where varied text puts them.
	form := []string{"Content-Type: application/x-www-form-urlencoded"}
	err = writeRequests(intakeFile, len(points), func(k int) []byte {
		p := points[k*7919%len(points)]
		desc := url.QueryEscape(fmt.Sprintf("%s, %s trước nhà số %d đường %s nhiều ngày nay, đề nghị phường xử lý sớm.",
			benchWords[k%len(benchWords)], benchWords[k*7%len(benchWords)], 1+k*13%300, benchStreets[k*3%len(benchStreets)]))
		body := "api_key=" + apiKey.Key + "&service_code=gop_y_khac&description=" + desc +
			"&lat=" + strconv.FormatFloat(p[1], 'f', 6, 64) + "&long=" + strconv.FormatFloat(p[0], 'f', 6, 64)
		return rawRequest("POST", addr, "/open311/v2/requests.json", form, body)
	})
	if err != nil {
		return err
	}

	// The search indexer runs as it does in service (app.Background).
	ictx, stopIndexer := context.WithCancel(ctx)
	indexerDone := make(chan struct{})
	go func() { services.Requests.RunIndexer(ictx); close(indexerDone) }()
	defer func() { stopIndexer(); <-indexerDone }()

	res := requestIntakeResult{Scenario: "request-intake", Engine: string(d.Dialect), Clients: *clients, DurationSeconds: dur.Seconds()}
	if !*cold {
		// A running server has routed to these wards before: route every
		// fixture point once (no writes) so the measurement sees the
		// caches of a server in service, not 3,000 first lookups.
		t0 := time.Now()
		for _, p := range points {
			lat, lon := p[1], p[0]
			if _, err := services.Requests.Route(ctx, nil, "gop_y_khac", &lat, &lon, 0); err != nil && apperr.CodeOf(err) != apperr.Invalid {
				return fmt.Errorf("warm-up route: %w", err)
			}
		}
		logf("warm-up: routed the %d fixture points once in %.1f s", len(points), time.Since(t0).Seconds())
	}
	gen, err := startHTTPLoad(ctx, "request-intake", addr, *clients, *poll, stderr)
	if err != nil {
		return err
	}
	defer gen.quit()
	logf("floor: GET /healthz over %d connections of a load generator process for %v…", *clients, *dur)
	cpu0 := cpuTime()
	floor, err := gen.run(floorFile, 0, *dur)
	floorCPU := cpuTime() - cpu0
	if err != nil {
		return err
	}
	if err := floor.err(); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	res.FloorPerSec, res.FloorP99Ms = floor.PerSec, floor.P99Ms
	logf("floor: %.0f requests/s, p99 %.2f ms (CPU a request: server %.0f ns, generator %.0f ns)", floor.PerSec, floor.P99Ms, perRequest(floorCPU, floor), floor.cpuNsPerRequest())

	logf("intake: Open311 POST over %d connections for %v…", *clients, *dur)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 = cpuTime()
	run, err := gen.run(intakeFile, 0, *dur)
	runCPU := cpuTime() - cpu0
	if err != nil {
		return err
	}
	res.Requests, res.RequestsPerSec, res.P50Ms, res.P99Ms, res.Errors = int(run.OK), run.PerSec, run.P50Ms, run.P99Ms, run.Errors
	res.ClientCPUNsPerRequest = run.cpuNsPerRequest()
	st, err := jobs.Count(ctx, d, "request.deadline")
	if err != nil {
		return err
	}
	res.DeadlineJobs = st.Pending
	queued := func() (n int, err error) {
		err = d.QueryRow(ctx, "SELECT COUNT(*) FROM request_index_queue").Scan(&n)
		return n, err
	}
	if res.IndexBacklog, err = queued(); err != nil {
		return err
	}
	t0 := time.Now()
	for n := res.IndexBacklog; n > 0; {
		if time.Since(t0) > 10*time.Minute {
			return fmt.Errorf("search index: %d requests still queued after 10 minutes", n)
		}
		time.Sleep(10 * time.Millisecond)
		if n, err = queued(); err != nil {
			return err
		}
	}
	res.IndexDrainSeconds = time.Since(t0).Seconds()
	indexed := "SELECT COUNT(DISTINCT request_id) FROM request_terms"
	if d.Dialect == db.SQLite {
		indexed = "SELECT COUNT(*) FROM request_fts" // a document a request
	}
	if err := d.QueryRow(ctx, indexed).Scan(&res.Indexed); err != nil {
		return err
	}
	logf("search index: %d requests queued when the run ended, indexed %.2f s later; %d requests are indexed", res.IndexBacklog, res.IndexDrainSeconds, res.Indexed)
	if res.FloorPerSec > 0 {
		res.Ratio = res.RequestsPerSec / res.FloorPerSec
	}
	logf("intake: %d requests, %.0f/s, p50 %.2f ms, p99 %.2f ms, %d errors %q; %d deadline jobs; ratio %.3f; CPU a request: server %.0f ns, generator %.0f ns",
		res.Requests, res.RequestsPerSec, res.P50Ms, res.P99Ms, res.Errors, run.FirstErrors, res.DeadlineJobs, res.Ratio, perRequest(runCPU, run), res.ClientCPUNsPerRequest)
	if res.DeadlineJobs != res.Requests {
		return fmt.Errorf("%d deadline jobs for %d requests filed, want one each", res.DeadlineJobs, res.Requests)
	}
	if res.Indexed != res.Requests {
		return fmt.Errorf("%d requests have search postings, %d were filed", res.Indexed, res.Requests)
	}
	return printJSON(stdout, res)
}

// benchDatabase opens url (or a fresh temporary SQLite file) and migrates it.
func benchDatabase(ctx context.Context, url string) (*db.DB, func(), error) {
	var dir string
	if url == "" {
		var err error
		if dir, err = os.MkdirTemp("", "trothu-bench-"); err != nil {
			return nil, nil, err
		}
		url = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	d, err := db.Open(ctx, url, db.Options{})
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		d.Close()
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	if _, _, err := d.Migrate(ctx); err != nil {
		cleanup()
		return nil, nil, err
	}
	return d, cleanup, nil
}

func pctMs(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return float64(sorted[i].Microseconds()) / 1000
}
