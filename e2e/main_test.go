// Package e2e runs the real trothu binary, as a newcomer would with
// `trothu serve --demo`, and drives it with headless Chromium: on SQLite and
// on PostgreSQL. Chromium is found at $TROTHU_TEST_CHROMIUM or
// /usr/bin/chromium; a missing browser fails the run under CI and skips it
// elsewhere.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/trothu once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trothu-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "trothu")
		// No -race here: the handlers are race-tested in internal/web; this
		// tests the binary a user runs.
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/trothu").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is a running `trothu serve --demo`.
type server struct {
	URL string
	cmd *exec.Cmd
	log *os.File
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startDemo runs the binary with --demo on a fresh database of the engine
// and waits until it is ready.
func startDemo(t *testing.T, engine db.Dialect) *server {
	t.Helper()
	bin := binary(t)
	data := t.TempDir()
	addr := freePort(t)
	logf, err := os.Create(filepath.Join(data, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--demo", "--addr", addr, "--data", data)
	cmd.Env = append(os.Environ(), "TROTHU_DATABASE_URL=")
	if engine == db.Postgres {
		cmd.Env = append(cmd.Env, "TROTHU_DATABASE_URL="+dbtest.URL(t, db.Postgres))
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{URL: "http://" + addr, cmd: cmd, log: logf}
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.dumpLog(t)
	t.Fatalf("trothu serve --demo did not become ready at %s", s.URL)
	return nil
}

func (s *server) dumpLog(t *testing.T) {
	b, _ := os.ReadFile(s.log.Name())
	t.Logf("server log:\n%s", b)
}

// stop sends SIGINT and expects a clean exit (graceful shutdown).
func (s *server) stop(t *testing.T) {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.dumpLog(t)
			t.Errorf("server exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("server did not stop within 30 s of SIGINT")
	}
	if t.Failed() {
		s.dumpLog(t)
	}
	s.log.Close()
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("TROTHU_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("TROTHU_TEST_CHROMIUM") != "" {
		t.Fatal("Chromium is required here (CI or TROTHU_TEST_CHROMIUM set) but was not found")
	}
	t.Skip("Chromium not found (set TROTHU_TEST_CHROMIUM)")
	return ""
}

// browser returns a fresh headless Chromium context (its own profile, so
// its own cookies) that closes at the end of the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(412, 915), // a common Android phone
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs steps and fails the test with the page's text on error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\npage text:\n%s", what, err, pageText(ctx))
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v\npage text:\n%s", what, err, pageText(ctx))
	}
	return v
}

func pageText(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Text("body"))
	return strings.TrimSpace(s)
}
