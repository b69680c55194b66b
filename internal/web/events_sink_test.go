//go:build unix

package web

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// sinkPair returns the server side of a loopback TCP connection as an
// sseConn, and the client side, both with small kernel buffers so that a
// client that does not read makes the stream fall behind quickly.
func sinkPair(t *testing.T) (*sseConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = client.(*net.TCPConn).SetReadBuffer(4096)
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	_ = server.(*net.TCPConn).SetWriteBuffer(4096)
	k := newSSEConn(server)
	if k == nil {
		t.Fatal("newSSEConn: got nil for a TCP connection")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return k, client
}

func sinkFrame(i int) []byte {
	return fmt.Appendf(nil, "id: e-%d\nevent: message\ndata: {\"n\":%d,\"pad\":%q}\n\n", i, i, bytes.Repeat([]byte("x"), 60))
}

// frameNumbers returns the n of every whole frame in b, in order.
func frameNumbers(b []byte) []int {
	var out []int
	for _, f := range bytes.Split(b, []byte("\n\n")) {
		_, rest, ok := bytes.Cut(f, []byte(`{"n":`))
		if !ok {
			continue
		}
		end := bytes.IndexByte(rest, ',')
		if end < 0 {
			continue
		}
		n, _ := strconv.Atoi(string(rest[:end]))
		out = append(out, n)
	}
	return out
}

func TestSSEConnKeepsOrderWhenTheClientFallsBehind(t *testing.T) {
	k, client := sinkPair(t)
	k.start([]byte("HTTP/1.1 200 OK\r\n\r\nretry: 3000\n\n"))
	const n = 1500 // about 150 KB: far more than the kernel buffers, less than maxBacklog
	for i := 1; i <= n; i++ {
		k.Frames(sinkFrame(i))
	}
	k.mu.Lock()
	behind := k.flushing
	k.mu.Unlock()
	if !behind {
		t.Fatal("after 150 KB to a client that reads nothing: got no backlog, want the stream behind")
	}
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	buf := make([]byte, 32<<10)
	for len(frameNumbers(got)) < n {
		m, err := client.Read(buf)
		if err != nil {
			t.Fatalf("read after %d frames: %v", len(frameNumbers(got)), err)
		}
		got = append(got, buf[:m]...)
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 200 OK\r\n\r\nretry: 3000\n\n")) {
		t.Fatalf("stream starts with %q, want the head first", got[:min(len(got), 40)])
	}
	for i, v := range frameNumbers(got) {
		if v != i+1 {
			t.Fatalf("frame %d: got number %d, want %d (order lost or a frame repeated)", i, v, i+1)
		}
	}
	// Caught up: writes go straight to the socket again.
	waitUntil(t, "the backlog to drain", func() bool { k.mu.Lock(); defer k.mu.Unlock(); return !k.flushing })
	k.Frames(sinkFrame(n + 1))
	m, err := client.Read(buf)
	if err != nil || len(frameNumbers(buf[:m])) != 1 || frameNumbers(buf[:m])[0] != n+1 {
		t.Fatalf("after catching up: got %q (%v), want frame %d", buf[:m], err, n+1)
	}
}

func TestSSEConnCutsOffAClientTooFarBehind(t *testing.T) {
	k, client := sinkPair(t)
	k.start([]byte("HTTP/1.1 200 OK\r\n\r\n"))
	sent := 0
	for i := 1; i <= 20000; i++ { // about 2 MB
		k.Frames(sinkFrame(i))
		sent = i
		k.mu.Lock()
		gone := k.gone
		k.mu.Unlock()
		if gone {
			break
		}
	}
	if sent == 20000 {
		t.Fatal("2 MB to a client that reads nothing: got still connected, want it cut off")
	}
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("read to the end: %v", err)
	}
	nums := frameNumbers(got)
	for i, v := range nums {
		if v != i+1 {
			t.Fatalf("frame %d before the cut: got %d, want %d", i, v, i+1)
		}
	}
	if len(nums) >= sent {
		t.Fatalf("frames before the cut: got %d of %d, want fewer (the backlog is dropped)", len(nums), sent)
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("waiting for %s: not within 5 s", what)
}
