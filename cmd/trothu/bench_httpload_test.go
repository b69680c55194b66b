package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseResponse checks the load generator's response parser on whole
// answers, on every prefix of them (an answer split at any byte across
// reads must wait for the rest, never be taken early or rejected), and on
// several answers back to back in one read.
func TestParseResponse(t *testing.T) {
	cases := []struct {
		name    string
		raw     string
		status  int
		body    string
		closing bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok", 200, "ok", false},
		{"empty body", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 201, "", false},
		{"header names in any case", "HTTP/1.1 200 OK\r\ncontent-length:  5 \r\nDate: Thu, 27 Nov 2026 20:00:00 GMT\r\n\r\nhello", 200, "hello", false},
		{"no content", "HTTP/1.1 204 No Content\r\nDate: Thu, 27 Nov 2026 20:00:00 GMT\r\n\r\n", 204, "", false},
		{"error with a body", "HTTP/1.1 401 Unauthorized\r\nContent-Length: 24\r\n\r\n{\"error\":\"unauthorized\"}", 401, `{"error":"unauthorized"}`, false},
		{"connection close", "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbad", 400, "bad", true},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n", 200, "hello, world", false},
		{"chunked, hex sizes, extension, trailer", "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: Chunked\r\n\r\nA;x=1\r\n0123456789\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: y\r\n\r\n", 500, "0123456789abcdefghijklmnopqrstuvwxyz", false},
		{"body holding CRLFs", "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n\r\n\r\n\r\n\r\n", 200, "\r\n\r\n\r\n\r\n", false},
	}
	check := func(t *testing.T, b []byte, wantN, status int, body string, closing bool) {
		t.Helper()
		n, st, got, cl, err := parseResponse(b)
		if err != nil || n != wantN || st != status || string(got) != body || cl != closing {
			t.Fatalf("parse %q: got n %d, status %d, body %q, closing %v, err %v; want n %d, status %d, body %q, closing %v",
				b, n, st, got, cl, err, wantN, status, body, closing)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte(c.raw)
			check(t, raw, len(raw), c.status, c.body, c.closing)
			for k := 0; k < len(raw); k++ {
				check(t, raw[:k], 0, 0, "", false)
			}
			// Followed by the next answer, whole or in part: only the first
			// is taken.
			next := []byte(cases[0].raw)
			for k := 0; k <= len(next); k++ {
				b := append(append([]byte(nil), raw...), next[:k]...)
				check(t, b, len(raw), c.status, c.body, c.closing)
			}
		})
	}
	// Every answer in a row in one buffer, taken one after the other.
	var all []byte
	for _, c := range cases {
		all = append(all, c.raw...)
	}
	for i, c := range cases {
		n, st, body, _, err := parseResponse(all)
		if err != nil || n != len(c.raw) || st != c.status || string(body) != c.body {
			t.Fatalf("answer %d in a row: got n %d, status %d, body %q, err %v; want n %d, status %d, body %q", i, n, st, body, err, len(c.raw), c.status, c.body)
		}
		all = all[n:]
	}
	if len(all) != 0 {
		t.Fatalf("%d bytes left after every answer", len(all))
	}
}

func TestParseResponseRejectsMalformed(t *testing.T) {
	for _, raw := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until the connection ends",
		"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
		"SSH-2.0-OpenSSH_9.6\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
	} {
		if n, _, _, _, err := parseResponse([]byte(raw)); err == nil {
			t.Errorf("parse %q: got n %d and no error, want an error", raw, n)
		}
	}
}

// TestLatHist checks the percentiles against known latencies: the figure
// reported is the upper bound of the value's bucket, within 1/128 above.
func TestLatHist(t *testing.T) {
	var h latHist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond / 10) // 0.1 ms … 100 ms
	}
	for _, c := range []struct{ q, want float64 }{{0.50, 50.1}, {0.99, 99.1}, {1, 100}} {
		got := h.quantileMs(c.q)
		if got < c.want || got > c.want*(1+1.0/128) {
			t.Errorf("quantile %.2f: got %.4f ms, want %.1f ms to 1/128 above", c.q, got, c.want)
		}
	}
	for _, ns := range []uint64{0, 1, 127, 128, 255, 256, 1000, 123456789, 1 << 40, 1<<64 - 1} {
		b := latBucket(ns)
		if b >= len(h.counts) || latUpper(b) <= ns && ns != 1<<64-1 || b > 0 && latUpper(b-1) > ns {
			t.Errorf("latency %d ns: bucket %d [%d, %d)", ns, b, latUpper(b-1), latUpper(b))
		}
	}
}

// TestHTTPLoadSplitAnswers runs the generator's connections against a raw
// server that writes every answer in odd-sized pieces, chunked or not, and
// fails every seventh request: each request is counted once, as an answer
// or as an error with its status and body.
func TestHTTPLoadSplitAnswers(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSplit(c)
		}
	}()
	addr := ln.Addr().String()
	file := filepath.Join(t.TempDir(), "reqs")
	const total = 700
	err = writeRequests(file, total, func(i int) []byte {
		return rawRequest("POST", addr, fmt.Sprintf("/r/%d", i), []string{"Authorization: Bearer t" + fmt.Sprint(i)}, fmt.Sprintf(`{"i":%d}`, i))
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := readRequests(file)
	if err != nil || len(reqs) != total {
		t.Fatalf("read back %d requests (%v), want %d", len(reqs), err, total)
	}
	l, err := openHTTPLoad(addr, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	rep := l.run(reqs, total, 0)
	failing := (total + 6) / 7 // requests 0, 7, 14, …
	if rep.Sent != total || rep.OK != int64(total-failing) || rep.Errors != int64(failing) {
		t.Fatalf("sent %d, ok %d, errors %d; want %d, %d, %d (%v)", rep.Sent, rep.OK, rep.Errors, total, total-failing, failing, rep.FirstErrors)
	}
	if len(rep.FirstErrors) != maxReportedErrors || !strings.Contains(rep.FirstErrors[0], `status 503: "no /r/`) {
		t.Errorf("first errors %q, want %d of status 503 with the body", rep.FirstErrors, maxReportedErrors)
	}
	if rep.P50Ms <= 0 || rep.P99Ms < rep.P50Ms || rep.PerSec <= 0 || rep.CPUNs <= 0 {
		t.Errorf("figures missing: %+v", rep)
	}

	// A duration run on the same connections: they are still usable.
	rep = l.run(reqs[1:2], 0, 200*time.Millisecond)
	if rep.OK == 0 || rep.Errors != 0 || rep.OK != rep.Sent {
		t.Errorf("duration run: sent %d, ok %d, errors %d %q; want all answered", rep.Sent, rep.OK, rep.Errors, rep.FirstErrors)
	}
}

// serveSplit answers each request on c by the number in its path: a 503
// when it divides by 7, chunked when it is odd, and writes the answer in
// pieces of 1 to 11 bytes.
func serveSplit(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for piece := 1; ; {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		var body bytes.Buffer
		if _, err := body.ReadFrom(req.Body); err != nil {
			return
		}
		var i int
		fmt.Sscanf(req.URL.Path, "/r/%d", &i)
		if req.Header.Get("Authorization") != fmt.Sprintf("Bearer t%d", i) || body.String() != fmt.Sprintf(`{"i":%d}`, i) {
			i = 0 // answered 503: the test sees it in the counts
		}
		status, text := "200 OK", fmt.Sprintf(`{"ok":%d}`, i)
		if i%7 == 0 {
			status, text = "503 Service Unavailable", fmt.Sprintf("no /r/%d", i)
		}
		var out []byte
		if i%2 == 1 {
			out = fmt.Appendf(nil, "HTTP/1.1 %s\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", status, text[:3], len(text)-3, text[3:])
		} else {
			out = fmt.Appendf(nil, "HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s", status, len(text), text)
		}
		for len(out) > 0 {
			n := min(piece, len(out))
			if _, err := c.Write(out[:n]); err != nil {
				return
			}
			out = out[n:]
			piece = piece%11 + 1
			if piece%3 == 0 {
				time.Sleep(20 * time.Microsecond) // let the pieces arrive apart
			}
		}
	}
}

// TestNoticeFanoutBenchHTTPLoad runs the announcement bench at a small
// size with its load generator in another process: every token
// acknowledges once (the bench itself checks the database holds as many
// acknowledgements as were sent) and the figures are filled in.
func TestNoticeFanoutBenchHTTPLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a load generator process")
	}
	t.Setenv("TROTHU_TEST_RUN_MAIN", "1")
	var out bytes.Buffer
	var errOut lockedBuffer
	err := run(context.Background(), []string{"bench", "notice-fanout", "--households", "2000", "--acks", "300", "--clients", "16", "--rollups", "3"}, &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	var res noticeFanoutResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("result %q: %v", out.String(), err)
	}
	if res.Acks != 300 || res.Clients != 16 || res.Households != 20000 {
		t.Errorf("acks %d, clients %d, households %d; want 300, 16, 20000", res.Acks, res.Clients, res.Households)
	}
	if res.AcksPerSec <= 0 || res.AckP99Ms < res.AckP50Ms || res.AckP50Ms <= 0 || res.FloorHTTPPerSec <= 0 || res.ClientCPUNsPerRequest <= 0 {
		t.Errorf("figures missing: %+v", res)
	}
	if want := res.FloorHTTPPerSec / res.AcksPerSec; res.RatioAck != want {
		t.Errorf("ratio_ack %v, want floor ÷ rate = %v", res.RatioAck, want)
	}
	if !strings.Contains(errOut.String(), "300 recorded") {
		t.Errorf("log does not report 300 acknowledgements recorded:\n%s", errOut.String())
	}
}

// TestRequestIntakeBenchHTTPLoad runs the intake bench for a second with
// its load generator in another process: every request answered 201 left
// its deadline job, none failed, and the figures are filled in.
func TestRequestIntakeBenchHTTPLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a load generator process")
	}
	t.Setenv("TROTHU_TEST_RUN_MAIN", "1")
	var out bytes.Buffer
	var errOut lockedBuffer
	err := run(context.Background(), []string{"bench", "request-intake", "--duration", "1s", "--clients", "16"}, &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	var res requestIntakeResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("result %q: %v", out.String(), err)
	}
	if res.Requests == 0 || res.DeadlineJobs != res.Requests || res.Errors != 0 || res.Clients != 16 {
		t.Errorf("requests %d, deadline jobs %d, errors %d, clients %d; want some requests, one job each, no error, 16 clients",
			res.Requests, res.DeadlineJobs, res.Errors, res.Clients)
	}
	if res.RequestsPerSec <= 0 || res.P99Ms < res.P50Ms || res.FloorPerSec <= 0 || res.FloorP99Ms <= 0 || res.ClientCPUNsPerRequest <= 0 {
		t.Errorf("figures missing: %+v", res)
	}
	if want := res.RequestsPerSec / res.FloorPerSec; res.Ratio != want {
		t.Errorf("ratio %v, want rate ÷ floor = %v", res.Ratio, want)
	}
}
