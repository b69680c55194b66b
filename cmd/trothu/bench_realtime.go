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
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	app_ "github.com/trothu/trothu/internal/app"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/group"
	"github.com/trothu/trothu/internal/web"
)

// realtimeResult is the JSON line of `trothu bench realtime-fanout`.
type realtimeResult struct {
	Scenario    string `json:"scenario"`
	Engine      string `json:"engine"`
	Connections int    `json:"connections"`
	Groups      int    `json:"groups"`
	GroupSize   int    `json:"group_size"`
	Streams     int64  `json:"streams_open"`

	// A message posted (POST /api/v1/groups/{id}/messages, committed) to
	// one 400-member group, until each online member's stream has it.
	GroupMessages int     `json:"group_messages"`
	GroupP50Ms    float64 `json:"group_p50_ms"`
	GroupP99Ms    float64 `json:"group_p99_ms"`
	// A message to the ward's group, which every connection is in.
	Broadcasts     int     `json:"broadcasts"`
	BroadcastP50Ms float64 `json:"broadcast_p50_ms"`
	BroadcastP99Ms float64 `json:"broadcast_p99_ms"`
	// Sustained posting to the 400-member groups.
	SustainSeconds    float64 `json:"sustain_seconds"`
	Posted            int64   `json:"posted"`
	Persisted         int64   `json:"persisted"`
	Deliveries        int64   `json:"deliveries"`
	DeliveriesPerSec  float64 `json:"deliveries_per_sec"`
	Lost              int64   `json:"lost"`
	Dropped           int64   `json:"dropped_streams"`
	SustainP99Ms      float64 `json:"sustain_p99_ms"`
	ClientNsPerDeliv  float64 `json:"client_cpu_ns_per_delivery"`
	CPUNsPerDelivery  float64 `json:"cpu_ns_per_delivery"`
	FloorNsPerWrite   float64 `json:"floor_cpu_ns_per_write"`
	Ratio             float64 `json:"ratio"`
	IdleBytesPerConn  float64 `json:"idle_bytes_per_conn"`
	HeapBytesPerConn  float64 `json:"heap_bytes_per_conn"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn"`
	BuildSeconds      float64 `json:"build_seconds"`
}

// benchRealtimeFanout runs `trothu bench realtime-fanout`: a synthetic
// ward of groups × group-size residents, each with an /events stream opened
// by a load generator in another process; it times a message to one group,
// a broadcast to all, and sustained posting, and compares the server's CPU
// per delivery with raw socket writes of the same frames to as many
// sockets (the floor), in the same run.
func benchRealtimeFanout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "--client" || a == "-client" {
			return benchRealtimeClient(ctx, args, stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("bench realtime-fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	groups := fs.Int("groups", 25, "tổ groups")
	size := fs.Int("group-size", 400, "members of each group, each with a live connection")
	msgs := fs.Int("messages", 200, "messages to single groups to time")
	casts := fs.Int("broadcasts", 20, "broadcasts to every connection to time")
	rate := fs.Int("rate", 300, "messages per second while sustained (× group-size deliveries; the default asks 120,000/s, so a server that keeps up shows more than the 100,000/s goal)")
	dur := fs.Duration("duration", 10*time.Second, "how long to sustain")
	database := fs.String("database", "", "database URL (default: a fresh temporary SQLite file)")
	loops := fs.Int("client-loops", 1, "epoll loops (threads) of the load generator")
	readIO := fs.String("client-io", "uring", "how the load generator reads its streams: uring (io_uring; epoll where refused) or epoll")
	poll := fs.Duration("client-poll", time.Millisecond, "the load generator looks for data this often instead of sleeping in epoll_wait (0: it sleeps there)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server during the sustained phase to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "realtime-fanout: "+format+"\n", a...) }
	dir, err := os.MkdirTemp("", "trothu-bench-rt-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	url := *database
	if url == "" {
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
	n := *groups * *size
	res := realtimeResult{Scenario: "realtime-fanout", Engine: string(d.Dialect), Connections: n, Groups: *groups, GroupSize: *size}
	start := time.Now()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	services, err := app_.New(ctx, d, app_.Config{SecretKey: key, DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	logf("building a ward of %d groups × %d residents on %s…", *groups, *size, d.Dialect)
	w, err := buildRealtimeWard(ctx, d, services, *groups, *size)
	if err != nil {
		return err
	}
	tokFile := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokFile, []byte(strings.Join(w.tokens, "\n")), 0o600); err != nil {
		return err
	}
	srv, err := web.New(web.Config{}, web.Deps{DB: d, Accounts: services.Accounts, Areas: services.Areas, Logger: slog.New(slog.DiscardHandler),
		Jobs: services.Jobs, Broker: services.Broker, Groups: services.Groups})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	res.BuildSeconds = time.Since(start).Seconds()

	runtime.GC()
	debug.FreeOSMemory()
	rss0, heap0, gor0 := rssBytes(), heapBytes(), runtime.NumGoroutine()
	logf("starting the load generator (another process) with %d connections…", n)
	ownerFile := filepath.Join(dir, "owner")
	if err := os.WriteFile(ownerFile, []byte(w.owner), 0o600); err != nil {
		return err
	}
	cl, err := startRealtimeClient(ctx, base, tokFile, ownerFile, *loops, *poll, *readIO, stderr)
	if err != nil {
		return err
	}
	defer cl.quit()
	line, err := cl.read()
	if err != nil {
		return err
	}
	res.Streams, _ = strconv.ParseInt(strings.TrimPrefix(line, "ready "), 10, 64)
	// An idle stream's goroutine keeps the stack it grew while the request
	// was authenticated; each collection halves what it does not use, as
	// a running server's regular collections would.
	time.Sleep(time.Second)
	for range 6 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	res.IdleBytesPerConn = float64(rssBytes()-rss0) / float64(n)
	res.HeapBytesPerConn = float64(heapBytes()-heap0) / float64(n)
	res.GoroutinesPerConn = float64(runtime.NumGoroutine()-gor0) / float64(n)
	logf("%d streams open; %.1f KB RSS per idle connection (%.1f KB heap, %.1f goroutines)", res.Streams, res.IdleBytesPerConn/1024, res.HeapBytesPerConn/1024, res.GoroutinesPerConn)

	// waitFor asks the generator until want deliveries arrived (or 30 s).
	waitFor := func(want int64) (rtReport, error) {
		var rep rtReport
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if err := cl.report(&rep); err != nil {
				return rep, err
			}
			if rep.Deliveries >= want || time.Now().After(deadline) {
				return rep, nil
			}
		}
	}

	logf("%d messages to single groups of %d…", *msgs, *size)
	if err := cl.reset(); err != nil {
		return err
	}
	for i := 0; i < *msgs; i++ {
		if err := cl.post(w.groups[i%len(w.groups)], i); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond) // one at a time: latency, not throughput
	}
	rep, err := waitFor(int64(*msgs * *size))
	if err != nil {
		return err
	}
	res.GroupMessages, res.GroupP50Ms, res.GroupP99Ms = *msgs, rep.P50Ms, rep.P99Ms
	logf("group message: p50 %.2f ms, p99 %.2f ms over %d deliveries", rep.P50Ms, rep.P99Ms, rep.Deliveries)

	logf("%d broadcasts to all %d connections…", *casts, n)
	if err := cl.reset(); err != nil {
		return err
	}
	for i := 0; i < *casts; i++ {
		if err := cl.post(w.ward, i); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
	if rep, err = waitFor(int64(*casts * n)); err != nil {
		return err
	}
	res.Broadcasts, res.BroadcastP50Ms, res.BroadcastP99Ms = *casts, rep.P50Ms, rep.P99Ms
	logf("broadcast: p50 %.2f ms, p99 %.2f ms over %d deliveries", rep.P50Ms, rep.P99Ms, rep.Deliveries)

	logf("sustaining %d messages/s (%d deliveries/s) for %v…", *rate, *rate**size, *dur)
	if err := cl.reset(); err != nil {
		return err
	}
	dropped0 := services.Broker.Stats().Dropped
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	cpu0 := cpuTime()
	sus, err := cl.sustain(*rate, *dur, w.groups)
	if err != nil {
		return err
	}
	t0 := time.Unix(0, sus.Start)
	if rep, err = waitFor(sus.Persisted * int64(*size)); err != nil {
		return err
	}
	cpu := cpuTime() - cpu0
	// The sustained span runs from the first post to the last delivery
	// (one clock: the generator reads the same system time).
	elapsed := time.Since(t0)
	if rep.LastAt > t0.UnixNano() {
		elapsed = time.Duration(rep.LastAt - t0.UnixNano())
	}
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	res.SustainSeconds = elapsed.Seconds()
	res.Posted, res.Persisted, res.Deliveries = sus.Posted, sus.Persisted, rep.Deliveries
	res.DeliveriesPerSec = float64(rep.Deliveries) / elapsed.Seconds()
	res.Lost = res.Persisted*int64(*size) - rep.Deliveries
	res.Dropped = services.Broker.Stats().Dropped - dropped0
	res.SustainP99Ms = rep.P99Ms
	res.ClientNsPerDeliv = rep.CPUNsPerDelivery
	res.CPUNsPerDelivery = float64(cpu.Nanoseconds()) / float64(max(rep.Deliveries, 1))
	var stored int64
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM group_messages").Scan(&stored); err == nil && stored < int64(*msgs+*casts)+res.Persisted {
		res.Lost = max(res.Lost, int64(*msgs+*casts)+res.Persisted-stored)
	}
	logf("sustained: %.0f deliveries/s, %d lost, %d streams dropped, p99 %.2f ms, %.0f ns CPU per delivery (generator %.0f ns)", res.DeliveriesPerSec, res.Lost, res.Dropped, res.SustainP99Ms, res.CPUNsPerDelivery, res.ClientNsPerDeliv)

	logf("floor: raw writes of the same frame to %d sockets…", n)
	if err := cl.closeStreams(); err != nil {
		return err
	}
	res.FloorNsPerWrite, err = socketFloor(cl, n, int(rep.Deliveries))
	if err != nil {
		return err
	}
	res.Ratio = res.CPUNsPerDelivery / res.FloorNsPerWrite
	logf("floor %.0f ns CPU per write; ratio %.2f", res.FloorNsPerWrite, res.Ratio)
	return printJSON(stdout, res)
}

// rtWard is the synthetic ward of the bench.
type rtWard struct {
	groups []int64  // the tổ groups
	ward   int64    // the ward's group: every resident is in it
	tokens []string // one per resident
	owner  string   // the official who posts
}

func newToken() (tok, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok = base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(tok))
	return tok, hex.EncodeToString(h[:])
}

// buildRealtimeWard makes a ward with groups tổ of size residents (each an
// account with a session), an official, a group per tổ and one for the
// ward, set-based.
func buildRealtimeWard(ctx context.Context, d *db.DB, a *app_.App, groups, size int) (rtWard, error) {
	var w rtWard
	now := db.Now()
	exp := now + 24*3600*1000
	const ward = 1_000_000
	err := d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO units(id, parent_id, path, level, name, full_name, kind, name_fold, created_at) VALUES (?, NULL, ?, 'commune', 'Phường Thử', 'Phường Thử', 'phường', 'phuong thu', ?)",
			ward, fmt.Sprintf("/%d/", ward), now); err != nil {
			return err
		}
		ownerTok, ownerHash := newToken()
		w.owner = ownerTok
		if _, err := tx.Exec(ctx, "INSERT INTO accounts(id, phone, name, created_at) VALUES (?, '+84899999999', 'Cán bộ bench', ?)", ward, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO role_grants(account_id, role, unit_id, unit_path, created_at) VALUES (?, 'commune_official', ?, ?, ?)", ward, ward, fmt.Sprintf("/%d/", ward), now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO sessions(id_hash, account_id, kind, created_at, expires_at, last_seen_at) VALUES (?, ?, 'api', ?, ?, ?)", ownerHash, ward, now, exp, now); err != nil {
			return err
		}
		for g := 1; g <= groups; g++ {
			uid := ward + g
			path := fmt.Sprintf("/%d/%d/", ward, uid)
			if _, err := tx.Exec(ctx, "INSERT INTO units(id, parent_id, path, level, name, full_name, kind, name_fold, created_at) VALUES (?, ?, ?, 'group', ?, ?, 'tổ', ?, ?)",
				uid, ward, path, fmt.Sprintf("Tổ %d", g), fmt.Sprintf("Tổ %d", g), fmt.Sprintf("to %d", g), now); err != nil {
				return err
			}
			for i := 0; i < size; i++ {
				id := ward*10 + g*size + i
				tok, h := newToken()
				w.tokens = append(w.tokens, tok)
				if _, err := tx.Exec(ctx, "INSERT INTO accounts(id, phone, name, created_at) VALUES (?, ?, ?, ?)", id, fmt.Sprintf("+8490%08d", id%100000000), fmt.Sprintf("Cư dân %d", id), now); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "INSERT INTO role_grants(account_id, role, unit_id, unit_path, created_at) VALUES (?, 'resident', ?, ?, ?)", id, uid, path, now); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "INSERT INTO sessions(id_hash, account_id, kind, created_at, expires_at, last_seen_at) VALUES (?, ?, 'api', ?, ?, ?)", h, id, now, exp, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return w, err
	}
	owner, err := a.Accounts.Authenticate(ctx, w.owner)
	if err != nil {
		return w, err
	}
	create := func(unit int64, name string) (int64, error) {
		g, err := a.Groups.Create(ctx, owner, group.Input{UnitID: unit, Name: name, JoinPolicy: group.PolicyAuto})
		return g.ID, err
	}
	if w.ward, err = create(ward, "Phường Thử — Thông báo"); err != nil {
		return w, err
	}
	for g := 1; g <= groups; g++ {
		id, err := create(int64(ward+g), fmt.Sprintf("Tổ %d", g))
		if err != nil {
			return w, err
		}
		w.groups = append(w.groups, id)
	}
	// Every resident is a member of the ward's group and of their tổ's, as
	// listing their groups once would make them.
	err = d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO group_members(group_id, account_id, role, state, joined_at, updated_at)
			SELECT ?, account_id, 'member', 'active', ?, ? FROM role_grants WHERE role = 'resident'`, w.ward, now, now); err != nil {
			return err
		}
		for i, gid := range w.groups {
			if _, err := tx.Exec(ctx, `INSERT INTO group_members(group_id, account_id, role, state, joined_at, updated_at)
				SELECT ?, account_id, 'member', 'active', ?, ? FROM role_grants WHERE role = 'resident' AND unit_id = ?`, gid, now, now, ward+i+1); err != nil {
				return err
			}
		}
		return nil
	})
	return w, err
}
