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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	FloorPerSec    float64 `json:"floor_requests_per_sec"` // GET /healthz, same server, same clients
	FloorP99Ms     float64 `json:"floor_p99_ms"`
	Ratio          float64 `json:"ratio"` // measured ÷ floor
}

// benchRequestIntake runs `trothu bench request-intake`: the national tree
// and ward boundaries, a server on a loopback port, and many clients
// filing requests at the 9,963 fixture points across Vietnam through
// Open311, against a trivial handler of the same server in the same run.
func benchRequestIntake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench request-intake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("duration", 10*time.Second, "how long to measure (the floor is measured for as long again)")
	clients := fs.Int("clients", 64, "concurrent HTTP clients")
	database := fs.String("database", "", "database URL (default: a fresh temporary SQLite file)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the intake run to this file")
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	tr := &http.Transport{MaxIdleConnsPerHost: *clients * 2, MaxConnsPerHost: *clients * 2}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

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
	logf("floor: GET /healthz with %d clients for %v…", *clients, *dur)
	floor := loadRun(*clients, *dur, func(i, n int) error {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	res.FloorPerSec, res.FloorP99Ms = floor.perSec, floor.p99
	logf("floor: %.0f requests/s, p99 %.2f ms", floor.perSec, floor.p99)

	logf("intake: Open311 POST with %d clients for %v…", *clients, *dur)
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
	desc := url.QueryEscape("Đèn đường trước nhà bị hỏng nhiều ngày, buổi tối rất tối, đề nghị sửa.")
	run := loadRun(*clients, *dur, func(i, n int) error {
		p := points[(i*7919+n)%len(points)]
		body := "api_key=" + apiKey.Key + "&service_code=gop_y_khac&description=" + desc +
			"&lat=" + strconv.FormatFloat(p[1], 'f', 6, 64) + "&long=" + strconv.FormatFloat(p[0], 'f', 6, 64)
		resp, err := client.Post(base+"/open311/v2/requests.json", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	res.Requests, res.RequestsPerSec, res.P50Ms, res.P99Ms, res.Errors = run.n, run.perSec, run.p50, run.p99, run.errors
	st, err := jobs.Count(ctx, d, "request.deadline")
	if err != nil {
		return err
	}
	res.DeadlineJobs = st.Pending
	if res.FloorPerSec > 0 {
		res.Ratio = res.RequestsPerSec / res.FloorPerSec
	}
	logf("intake: %d requests, %.0f/s, p50 %.2f ms, p99 %.2f ms, %d errors (%v); %d deadline jobs; ratio %.3f",
		res.Requests, res.RequestsPerSec, res.P50Ms, res.P99Ms, res.Errors, run.firstErr, res.DeadlineJobs, res.Ratio)
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

type loadResult struct {
	n        int
	errors   int64
	firstErr error
	perSec   float64
	p50, p99 float64
}

// loadRun calls fn from clients goroutines for d and reports the rate and
// the latency percentiles of the successful calls.
func loadRun(clients int, d time.Duration, fn func(client, n int) error) loadResult {
	var wg sync.WaitGroup
	var errs atomic.Int64
	var mu sync.Mutex
	var firstErr error
	lat := make([][]time.Duration, clients)
	start := time.Now()
	stop := start.Add(d)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(stop); n++ {
				t0 := time.Now()
				if err := fn(c, n); err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := loadResult{n: len(all), errors: errs.Load(), firstErr: firstErr, perSec: float64(len(all)) / elapsed.Seconds()}
	r.p50, r.p99 = pctMs(all, 0.50), pctMs(all, 0.99)
	return r
}

func pctMs(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return float64(sorted[i].Microseconds()) / 1000
}
