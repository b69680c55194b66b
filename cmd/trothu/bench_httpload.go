package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The HTTP benchmarks (notice-fanout's acknowledgements, request-intake)
// send their load from a process of their own, so that the server's
// process spends its CPU on the server alone: the bench re-executes the
// binary as `trothu bench SCENARIO --load-generator --url HOST:PORT
// --clients N`. The generator opens N keep-alive connections, each with at
// most one request in flight (a closed loop), prints "ready N" and then
// answers commands on stdin, one line each:
//
//	run N DUR FILE → a JSON httpLoadReport. FILE holds pre-formatted
//	                 requests (see writeRequests); request k is the file's
//	                 k mod len-th. With N > 0 exactly N are sent; otherwise
//	                 requests are sent for DUR (a Go duration).
//	quit           → exit
//
// On Linux the connections are raw non-blocking sockets served by one epoll
// loop on a locked thread (bench_httpload_linux.go); elsewhere a goroutine
// per connection with net/http's response reader.

// httpLoadReport is what one run of the generator measured.
type httpLoadReport struct {
	Connections int     `json:"connections"`
	Sent        int64   `json:"sent"`
	OK          int64   `json:"ok"`     // answered 2xx
	Errors      int64   `json:"errors"` // answered otherwise, or lost with their connection
	Seconds     float64 `json:"seconds"`
	PerSec      float64 `json:"per_sec"` // OK ÷ Seconds
	P50Ms       float64 `json:"p50_ms"`  // of the 2xx answers, send → whole response
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	// CPUNs is the generator's own CPU time (user + system) during the run.
	CPUNs int64 `json:"cpu_ns"`
	// FirstErrors describes the first few errors: status and body, or what
	// happened to the connection.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// cpuNsPerRequest is the generator's CPU per request answered.
func (r httpLoadReport) cpuNsPerRequest() float64 {
	if r.OK+r.Errors == 0 {
		return 0
	}
	return float64(r.CPUNs) / float64(r.OK+r.Errors)
}

// perRequest divides the CPU the bench's own process (the server) spent
// during a run by the requests the run sent.
func perRequest(cpu time.Duration, r httpLoadReport) float64 {
	if r.OK+r.Errors == 0 {
		return 0
	}
	return float64(cpu.Nanoseconds()) / float64(r.OK+r.Errors)
}

// err is nil when every request was answered 2xx.
func (r httpLoadReport) err() error {
	if r.Errors == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d requests failed: %s", r.Errors, r.Sent, strings.Join(r.FirstErrors, "; "))
}

const maxReportedErrors = 5

// noteError counts an error and keeps its description if it is among the
// first few.
func (r *httpLoadReport) noteError(desc string) {
	r.Errors++
	if len(r.FirstErrors) < maxReportedErrors {
		r.FirstErrors = append(r.FirstErrors, desc)
	}
}

// noteStatus counts a non-2xx answer.
func (r *httpLoadReport) noteStatus(status int, body []byte) {
	r.noteError(fmt.Sprintf("status %d: %q", status, body[:min(len(body), 200)]))
}

// finish fills in the rate and the percentiles.
func (r *httpLoadReport) finish(h *latHist, elapsed time.Duration, cpu time.Duration) {
	r.Seconds = elapsed.Seconds()
	if r.Seconds > 0 {
		r.PerSec = float64(r.OK) / r.Seconds
	}
	r.P50Ms, r.P99Ms, r.MaxMs = h.quantileMs(0.50), h.quantileMs(0.99), h.quantileMs(1)
	r.CPUNs = cpu.Nanoseconds()
}

// latHist counts latencies in nanoseconds with a relative precision of
// 1/128: exact below 128 ns, then 128 buckets per power of two.
type latHist struct {
	counts [58 * 128]uint64
	n      uint64
}

func latBucket(ns uint64) int {
	if ns < 128 {
		return int(ns)
	}
	e := bits.Len64(ns) - 8 // ns>>e is in [128, 256)
	return (e+1)*128 + int(ns>>e) - 128
}

// latUpper is the smallest latency above bucket b's.
func latUpper(b int) uint64 {
	g := b / 128
	if g == 0 {
		return uint64(b) + 1
	}
	return uint64(b%128+128+1) << (g - 1)
}

func (h *latHist) add(d time.Duration) {
	h.counts[latBucket(uint64(max(d, 0)))]++
	h.n++
}

// quantileMs is the q-quantile in milliseconds, rounded up to its bucket's
// upper bound (a little worse, never better); q = 1 is the maximum.
func (h *latHist) quantileMs(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := min(uint64(q*float64(h.n)), h.n-1) // how many lie below the one wanted
	var c uint64
	for b, v := range h.counts {
		c += v
		if c > rank {
			return float64(latUpper(b)) / 1e6
		}
	}
	return 0
}

// rawRequest formats one HTTP/1.1 request: headers are "Name: value"
// lines; a Content-Length is added when there is a body or the method is
// not GET.
func rawRequest(method, host, path string, headers []string, body string) []byte {
	var b bytes.Buffer
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" || method != "GET" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	return b.Bytes()
}

// writeRequests writes n requests to path, each as its length in decimal,
// a newline and its bytes.
func writeRequests(path string, n int, req func(i int) []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600) // may hold bearer tokens
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	for i := range n {
		r := req(i)
		w.WriteString(strconv.Itoa(len(r)) + "\n")
		w.Write(r)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readRequests reads a file written by writeRequests.
func readRequests(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var reqs [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, fmt.Errorf("%s: a length without a newline", path)
		}
		n, err := strconv.Atoi(string(b[:i]))
		if err != nil || n <= 0 || n > len(b)-i-1 {
			return nil, fmt.Errorf("%s: bad length %q", path, b[:i])
		}
		reqs = append(reqs, b[i+1:i+1+n])
		b = b[i+1+n:]
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%s: no requests", path)
	}
	return reqs, nil
}

var (
	errMalformed = errors.New("malformed HTTP response")
	crlf         = []byte("\r\n")
)

// parseResponse looks for one whole HTTP/1.1 response at the start of b.
// It returns the response's length (0 when b holds only part of it so far),
// its status, its body (decoded when chunked) and whether the server will
// close the connection after it. A body delimited by the connection's end,
// or anything malformed, is an error: the server under test always sends
// Content-Length or chunked.
func parseResponse(b []byte) (n, status int, body []byte, closing bool, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > 64<<10 {
			return 0, 0, nil, false, errMalformed
		}
		return 0, 0, nil, false, nil
	}
	head := b[:end+2] // each line ends in CRLF
	// "HTTP/1.1 200 OK"
	if len(head) < 12 || !bytes.HasPrefix(head, []byte("HTTP/1.")) || head[8] != ' ' {
		return 0, 0, nil, false, errMalformed
	}
	for _, c := range head[9:12] {
		if c < '0' || c > '9' {
			return 0, 0, nil, false, errMalformed
		}
		status = status*10 + int(c-'0')
	}
	length, chunked := -1, false
	line := head[bytes.Index(head, crlf)+2:]
	for len(line) > 0 {
		i := bytes.Index(line, crlf)
		h := line[:i]
		line = line[i+2:]
		colon := bytes.IndexByte(h, ':')
		if colon < 0 {
			return 0, 0, nil, false, errMalformed
		}
		name, value := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case asciiEqualFold(name, "Content-Length"):
			v, err := strconv.Atoi(string(value))
			if err != nil || v < 0 {
				return 0, 0, nil, false, errMalformed
			}
			length = v
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
			if !chunked {
				return 0, 0, nil, false, errMalformed
			}
		case asciiEqualFold(name, "Connection"):
			closing = asciiEqualFold(value, "close")
		}
	}
	start := end + 4
	switch {
	case status/100 == 1 || status == 204 || status == 304:
		return start, status, nil, closing, nil
	case chunked:
		n, body, err := parseChunked(b[start:])
		if n == 0 || err != nil {
			return 0, 0, nil, false, err
		}
		return start + n, status, body, closing, nil
	case length >= 0:
		if len(b) < start+length {
			return 0, 0, nil, false, nil
		}
		return start + length, status, b[start : start+length], closing, nil
	}
	return 0, 0, nil, false, errMalformed
}

// parseChunked reads a chunked body (chunks, the last chunk, trailers, the
// final CRLF) at the start of b; n is 0 while it is incomplete.
func parseChunked(b []byte) (n int, body []byte, err error) {
	for {
		i := bytes.Index(b[n:], crlf)
		if i < 0 {
			return 0, nil, nil
		}
		sizeText := b[n : n+i]
		if j := bytes.IndexByte(sizeText, ';'); j >= 0 { // chunk extensions
			sizeText = sizeText[:j]
		}
		size, perr := strconv.ParseUint(string(bytes.TrimSpace(sizeText)), 16, 31)
		if perr != nil {
			return 0, nil, errMalformed
		}
		n += i + 2
		if size == 0 {
			// Trailers, if any, then an empty line.
			for {
				k := bytes.Index(b[n:], crlf)
				if k < 0 {
					return 0, nil, nil
				}
				n += k + 2
				if k == 0 {
					return n, body, nil
				}
			}
		}
		if len(b) < n+int(size)+2 {
			return 0, nil, nil
		}
		if b[n+int(size)] != '\r' || b[n+int(size)+1] != '\n' {
			return 0, nil, errMalformed
		}
		body = append(body, b[n:n+int(size)]...)
		n += int(size) + 2
	}
}

func asciiEqualFold[T []byte | string](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// isLoadGenerator reports whether a bench was asked to be the load
// generator (the hidden --load-generator flag).
func isLoadGenerator(args []string) bool {
	for _, a := range args {
		if a == "--load-generator" || a == "-load-generator" {
			return true
		}
	}
	return false
}

// benchHTTPLoadGenerator is the load generator process (see the top of
// this file).
func benchHTTPLoadGenerator(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench --load-generator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("load-generator", true, "run as the HTTP load generator")
	addr := fs.String("url", "", "the server's HOST:PORT")
	clients := fs.Int("clients", 64, "keep-alive connections, one request in flight on each")
	poll := fs.Duration("poll", 0, "look for answers this often instead of sleeping in epoll_wait (0: sleep there)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := openHTTPLoad(*addr, *clients, *poll)
	if err != nil {
		return err
	}
	defer l.close()
	fmt.Fprintf(stdout, "ready %d\n", *clients)
	in := bufio.NewScanner(stdin)
	for in.Scan() {
		f := strings.SplitN(in.Text(), " ", 4)
		switch {
		case len(f) == 1 && f[0] == "quit":
			return nil
		case len(f) == 4 && f[0] == "run":
			n, err1 := strconv.Atoi(f[1])
			dur, err2 := time.ParseDuration(f[2])
			reqs, err3 := readRequests(f[3])
			if err := errors.Join(err1, err2, err3); err != nil {
				return err
			}
			b, err := json.Marshal(l.run(reqs, n, dur))
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, string(b))
		default:
			return fmt.Errorf("load generator: unknown command %q", in.Text())
		}
	}
	return in.Err()
}

// httpLoad is the bench's handle on its load generator process.
type httpLoad struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startHTTPLoad starts the load generator for scenario against addr
// (HOST:PORT) and waits until its connections are open.
func startHTTPLoad(ctx context.Context, scenario, addr string, clients int, poll time.Duration, stderr io.Writer) (*httpLoad, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd, in, out, err := startBenchChild(ctx, exe, stderr, "bench", scenario, "--load-generator", "--url", addr, "--clients", strconv.Itoa(clients), "--poll", poll.String())
	if err != nil {
		return nil, err
	}
	g := &httpLoad{cmd: cmd, in: in, out: out}
	line, err := g.read()
	if err == nil && line != fmt.Sprintf("ready %d", clients) {
		err = fmt.Errorf("load generator: %q, want ready", line)
	}
	if err != nil {
		g.quit()
		return nil, err
	}
	return g, nil
}

func (g *httpLoad) read() (string, error) {
	if !g.out.Scan() {
		if err := g.out.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("load generator exited")
	}
	return g.out.Text(), nil
}

// run sends the requests of file: exactly n of them when n > 0, else for
// dur.
func (g *httpLoad) run(file string, n int, dur time.Duration) (httpLoadReport, error) {
	var rep httpLoadReport
	if _, err := fmt.Fprintf(g.in, "run %d %s %s\n", n, dur, file); err != nil {
		return rep, err
	}
	line, err := g.read()
	if err != nil {
		return rep, err
	}
	return rep, json.Unmarshal([]byte(line), &rep)
}

func (g *httpLoad) quit() {
	_, _ = io.WriteString(g.in, "quit\n")
	_ = g.in.Close()
	_ = g.cmd.Wait()
}
