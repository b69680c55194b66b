package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The load generator of `trothu bench realtime-fanout` runs in a process
// of its own (the bench re-executes the binary with --client), so that its
// CPU is not the server's. It opens one /events stream per token, answers
// the bench's commands on stdin and reports on stdout, one line each:
//
//	reset        → "ok": forget the latencies and counts so far
//	report       → a JSON rtReport of what arrived since the reset
//	close        → "closed": end every stream
//	sink         → "sink ADDR": accept raw TCP connections and discard
//	               what arrives (the floor's far end)
//	post G S     → "201": post message S to group G as the official
//	sustain R D G,G,… → a JSON rtSustain: post R messages/s for D spread
//	               over the groups, from 32 posters
//
// Posting from here keeps the HTTP client's CPU out of the server's.
//
//	quit         → exit
//
// Each message's body is "t=UNIXNANO;s=SEQ": the time the bench sent it,
// so the latency is the arrival time minus that (one machine, one clock).
type rtReport struct {
	Deliveries int64   `json:"deliveries"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	Streams    int64   `json:"streams"`
	Reconnects int64   `json:"ended"`
	SinkBytes  int64   `json:"sink_bytes"`
	// LastAt is when the newest delivery arrived (unix ns).
	LastAt int64 `json:"last_at"`
	// CPUNsPerDelivery is the generator's own CPU per delivery since the
	// reset: what reading the streams took from the shared machine.
	CPUNsPerDelivery float64 `json:"client_cpu_ns_per_delivery"`
}

// rtHist counts latencies in 50-µs buckets up to 5 s.
type rtHist struct{ b [100001]atomic.Int64 }

func (h *rtHist) add(d time.Duration) {
	i := int(d / (50 * time.Microsecond))
	if i < 0 {
		i = 0
	}
	if i >= len(h.b) {
		i = len(h.b) - 1
	}
	h.b[i].Add(1)
}

func (h *rtHist) reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
}

// quantiles returns the count and the p50, p99 and max in ms.
func (h *rtHist) quantiles() (n int64, p50, p99, maxMs float64) {
	counts := make([]int64, len(h.b))
	for i := range h.b {
		counts[i] = h.b[i].Load()
		n += counts[i]
	}
	if n == 0 {
		return 0, 0, 0, 0
	}
	at := func(q float64) float64 {
		want := int64(q * float64(n))
		var c int64
		for i, v := range counts {
			c += v
			if c > want || (c == n && v > 0) {
				return float64(i+1) * 0.05
			}
		}
		return 0
	}
	for i := len(counts) - 1; i >= 0; i-- {
		if counts[i] > 0 {
			maxMs = float64(i+1) * 0.05
			break
		}
	}
	return n, at(0.50), at(0.99), maxMs
}

// rtStreams is what the load generator's streams have received.
type rtStreams struct {
	hist    rtHist
	streams atomic.Int64
	ended   atomic.Int64
	lastAt  int64 // unix ns of the newest delivery (atomic)
}

// parseNanos parses the decimal send time of a message body.
func parseNanos(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func benchRealtimeClient(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench realtime-fanout --client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("client", true, "run as the load generator")
	url := fs.String("url", "", "the server")
	tokens := fs.String("tokens", "", "file of bearer tokens, one a line")
	loops := fs.Int("loops", 1, "reading loops (threads)")
	fs.StringVar(&clientIO, "io", clientIO, "how to read the streams: uring or epoll (Linux)")
	fs.DurationVar(&clientPoll, "poll", 0, "look for data this often instead of sleeping in epoll_wait (0: sleep in epoll_wait)")
	ownerFile := fs.String("owner", "", "file with the posting official's bearer token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*tokens)
	if err != nil {
		return err
	}
	toks := strings.Fields(string(raw))
	owner, err := os.ReadFile(*ownerFile)
	if err != nil {
		return err
	}
	ps := newRTPoster(*url, strings.TrimSpace(string(owner)))
	st := &rtStreams{}
	var sinkBytes atomic.Int64
	closeAll, err := openStreams(*url, toks, *loops, st, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	cpu0 := cpuTime()
	fmt.Fprintf(stdout, "ready %d\n", st.streams.Load())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch cmd := in.Text(); cmd {
		case "reset":
			st.hist.reset()
			atomic.StoreInt64(&st.lastAt, 0)
			cpu0 = cpuTime()
			fmt.Fprintln(stdout, "ok")
		case "report":
			n, p50, p99, mx := st.hist.quantiles()
			rep := rtReport{Deliveries: n, P50Ms: p50, P99Ms: p99, MaxMs: mx, Streams: st.streams.Load(), Reconnects: st.ended.Load(),
				SinkBytes: sinkBytes.Load(), LastAt: atomic.LoadInt64(&st.lastAt)}
			if n > 0 {
				rep.CPUNsPerDelivery = float64((cpuTime() - cpu0).Nanoseconds()) / float64(n)
			}
			b, _ := json.Marshal(rep)
			fmt.Fprintln(stdout, string(b))
		case "close":
			closeAll()
			fmt.Fprintln(stdout, "closed")
		case "sink":
			addr, stop, err := startSink(&sinkBytes)
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintln(stdout, "sink "+addr)
		case "quit":
			return nil
		default:
			f := strings.Fields(cmd)
			switch {
			case len(f) == 3 && f[0] == "post":
				gid, _ := strconv.ParseInt(f[1], 10, 64)
				seq, _ := strconv.Atoi(f[2])
				fmt.Fprintln(stdout, ps.post(gid, seq))
			case len(f) == 4 && f[0] == "sustain":
				rate, _ := strconv.Atoi(f[1])
				dur, _ := time.ParseDuration(f[2])
				var gids []int64
				for _, g := range strings.Split(f[3], ",") {
					id, _ := strconv.ParseInt(g, 10, 64)
					gids = append(gids, id)
				}
				b, _ := json.Marshal(ps.sustain(rate, dur, gids))
				fmt.Fprintln(stdout, string(b))
			default:
				fmt.Fprintln(stdout, "unknown command")
			}
		}
	}
	return in.Err()
}

// rtPoster posts messages as the official, over kept-alive connections.
type rtPoster struct {
	url, token string
	client     *http.Client
}

const rtPosters = 32

func newRTPoster(url, token string) *rtPoster {
	tr := &http.Transport{MaxIdleConnsPerHost: rtPosters, DisableCompression: true}
	return &rtPoster{url: url, token: token, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// post sends message seq to group gid, its body carrying the send time,
// and returns the response status.
func (p *rtPoster) post(gid int64, seq int) int {
	body := fmt.Sprintf(`{"body":"t=%d;s=%d"}`, time.Now().UnixNano(), seq)
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/groups/%d/messages", p.url, gid), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	r, err := p.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r.StatusCode
}

// rtSustain is the outcome of a sustained phase.
type rtSustain struct {
	Start     int64 `json:"start"` // unix ns of the first post
	Posted    int64 `json:"posted"`
	Persisted int64 `json:"persisted"` // answered 201 Created
}

// sustain posts rate messages a second for dur, round-robin over the
// groups, from rtPosters goroutines on a fixed schedule each.
func (p *rtPoster) sustain(rate int, dur time.Duration, gids []int64) rtSustain {
	var posted, persisted atomic.Int64
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) * rtPosters / float64(max(rate, 1)))
	t0 := time.Now()
	for k := 0; k < rtPosters; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			next := t0.Add(time.Duration(k) * interval / rtPosters)
			for i := k; time.Since(t0) < dur; i += rtPosters {
				time.Sleep(time.Until(next))
				next = next.Add(interval)
				posted.Add(1)
				if p.post(gids[i%len(gids)], i) == http.StatusCreated {
					persisted.Add(1)
				}
			}
		}(k)
	}
	wg.Wait()
	return rtSustain{Start: t0.UnixNano(), Posted: posted.Load(), Persisted: persisted.Load()}
}

// rtClient is the load generator process.
type rtClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startRealtimeClient(ctx context.Context, base, tokens, owner string, loops int, poll time.Duration, readIO string, stderr io.Writer) (*rtClient, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd, in, sc, err := startBenchChild(ctx, exe, stderr, "bench", "realtime-fanout", "--client", "--url", base, "--tokens", tokens, "--owner", owner,
		"--loops", strconv.Itoa(loops), "--poll", poll.String(), "--io", readIO)
	if err != nil {
		return nil, err
	}
	return &rtClient{cmd: cmd, in: in, out: sc}, nil
}

func (c *rtClient) read() (string, error) {
	if !c.out.Scan() {
		if err := c.out.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("load generator exited")
	}
	return c.out.Text(), nil
}

func (c *rtClient) send(cmd string) (string, error) {
	if _, err := io.WriteString(c.in, cmd+"\n"); err != nil {
		return "", err
	}
	return c.read()
}

func (c *rtClient) reset() error { _, err := c.send("reset"); return err }

func (c *rtClient) report(r *rtReport) error {
	line, err := c.send("report")
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(line), r)
}

func (c *rtClient) post(gid int64, seq int) error {
	line, err := c.send(fmt.Sprintf("post %d %d", gid, seq))
	if err != nil {
		return err
	}
	if line != "201" {
		return fmt.Errorf("post to group %d: status %s", gid, line)
	}
	return nil
}

func (c *rtClient) sustain(rate int, dur time.Duration, gids []int64) (rtSustain, error) {
	ids := make([]string, len(gids))
	for i, g := range gids {
		ids[i] = strconv.FormatInt(g, 10)
	}
	var out rtSustain
	line, err := c.send(fmt.Sprintf("sustain %d %s %s", rate, dur, strings.Join(ids, ",")))
	if err != nil {
		return out, err
	}
	return out, json.Unmarshal([]byte(line), &out)
}

func (c *rtClient) closeStreams() error { _, err := c.send("close"); return err }

func (c *rtClient) quit() {
	_, _ = io.WriteString(c.in, "quit\n")
	_ = c.in.Close()
	_ = c.cmd.Wait()
}

// socketFloor opens n raw TCP connections to the generator's sink and
// writes a group message's frame `writes` times round-robin from
// GOMAXPROCS goroutines, one write each: the least a server can do per
// delivery. It returns the CPU nanoseconds per write.
func socketFloor(cl *rtClient, n, writes int) (float64, error) {
	line, err := cl.send("sink")
	if err != nil {
		return 0, err
	}
	addr := strings.TrimPrefix(line, "sink ")
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, err
		}
		conns = append(conns, c)
	}
	frame := []byte("id: 0a1b2c3d-123456\nevent: message\ndata: {\"topic\":\"group:7\",\"data\":{\"id\":123456,\"group_id\":7,\"author_id\":1000000,\"author_name\":\"Cán bộ bench\",\"body\":\"t=1764230400000000000;s=123\",\"created_at\":1764230400000,\"replies\":0}}\n\n")
	writes = max(writes, n)
	workers := runtime.GOMAXPROCS(0)
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	var failed atomic.Bool
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func(wk int) {
			defer wg.Done()
			for i := wk; i < writes; i += workers {
				if _, err := conns[i%n].Write(frame); err != nil {
					failed.Store(true)
					return
				}
			}
		}(wk)
	}
	wg.Wait()
	cpu := cpuTime() - cpu0
	if failed.Load() {
		return 0, fmt.Errorf("floor: a socket write failed")
	}
	return float64(cpu.Nanoseconds()) / float64(writes), nil
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssBytes is the process's resident set size (Linux), or 0.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func heapBytes() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// startBenchChild starts exe with args as a bench's helper process (a load
// generator): its stderr goes to stderr, and the bench talks to it a line
// at a time over its stdin and stdout.
func startBenchChild(ctx context.Context, exe string, stderr io.Writer, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return cmd, in, sc, nil
}
