package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for trothu when a bench starts
// its load generator as another process (os.Executable is the test binary
// then).
func TestMain(m *testing.M) {
	if os.Getenv("TROTHU_TEST_RUN_MAIN") == "1" {
		if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRealtimeFanoutBench runs the whole bench at a small size, with the
// load generator in its own process: every message posted reaches every
// member's stream, none is lost, and the figures are filled in.
func TestRealtimeFanoutBench(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a load generator process")
	}
	t.Setenv("TROTHU_TEST_RUN_MAIN", "1")
	var out bytes.Buffer
	var errOut lockedBuffer // the generator's stderr is copied in beside the bench's own lines
	err := run(context.Background(), []string{"bench", "realtime-fanout", "--groups", "3", "--group-size", "20",
		"--messages", "6", "--broadcasts", "2", "--rate", "30", "--duration", "1s"}, &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	var res realtimeResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("result %q: %v", out.String(), err)
	}
	if res.Streams != 60 || res.Connections != 60 {
		t.Errorf("streams %d of %d connections, want 60", res.Streams, res.Connections)
	}
	if res.Persisted == 0 || res.Lost != 0 || res.Deliveries != res.Persisted*20 {
		t.Errorf("persisted %d, deliveries %d (want %d), lost %d", res.Persisted, res.Deliveries, res.Persisted*20, res.Lost)
	}
	if res.GroupP99Ms <= 0 || res.BroadcastP99Ms <= 0 || res.FloorNsPerWrite <= 0 || res.Ratio <= 0 || res.ClientNsPerDeliv <= 0 {
		t.Errorf("figures missing: %+v", res)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestStreamsCountSplitFrames checks the load generator's reader: frames
// that arrive split at every possible place, and several in one read, are
// each counted once, on every stream.
func TestStreamsCountSplitFrames(t *testing.T) {
	const streams, frames = 3, 40
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		_ = buf.Flush()
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nretry: 3000\n\nid: x-0\nevent: ready\ndata: {}\n\n")
		<-release
		var all []byte
		for i := 0; i < frames; i++ {
			sent := time.Now().UnixNano()
			all = fmt.Appendf(all, "id: x-%d\nevent: message\ndata: {\"topic\":\"group:1\",\"data\":{\"body\":\"t=%d;s=%d\"}}\n\n", i+1, sent, i)
			if i%7 == 0 {
				all = append(all, ": hb\n\n"...)
			}
		}
		// Odd chunk sizes split frames, lines and the send time itself.
		for off, n := 0, 1; off < len(all); off, n = off+n, n%97+13 {
			if _, err := c.Write(all[off:min(off+n, len(all))]); err != nil {
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
		time.Sleep(time.Second)
	})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	st := &rtStreams{}
	var stderr bytes.Buffer
	closeAll, err := openStreams("http://"+ln.Addr().String(), []string{"a", "b", "c"}, 2, st, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if got := st.streams.Load(); got != streams {
		t.Fatalf("%d streams open, want %d (%s)", got, streams, strings.TrimSpace(stderr.String()))
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, _, _, _ := st.hist.quantiles()
		if n == streams*frames {
			break
		}
		if n > streams*frames || time.Now().After(deadline) {
			t.Fatalf("counted %d deliveries, want %d", n, streams*frames)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
