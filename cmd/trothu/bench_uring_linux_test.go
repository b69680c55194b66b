//go:build linux

package main

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// TestURingReaderGetsEveryByteInOrder feeds sockets armed at the start and
// sockets added later, with writes larger than a receive buffer and many
// small ones, and checks each socket's bytes arrive whole and in order.
func TestURingReaderGetsEveryByteInOrder(t *testing.T) {
	if r, err := newURingReader(8, 16, 4096); err != nil {
		t.Skipf("io_uring refused here: %v", err)
	} else {
		r.close()
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (fd int, server net.Conn) {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.(*net.TCPConn).File()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close(); s.Close() })
		return int(f.Fd()), s
	}
	const early, late = 20, 5
	var fds []int
	servers := map[int]net.Conn{}
	for i := 0; i < early+late; i++ {
		fd, s := pair()
		fds = append(fds, fd)
		servers[fd] = s
	}
	var mu sync.Mutex
	got := map[int][]byte{}
	stop := make(chan struct{})
	more := make(chan int)
	ready := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		uringLoop(fds[:early], more, func(fd int, data []byte) {
			mu.Lock()
			got[fd] = append(got[fd], data...)
			mu.Unlock()
		}, stop, ready)
	}()
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds[early:] {
		more <- fd
	}
	want := map[int][]byte{}
	for round := 0; round < 30; round++ {
		for i, fd := range fds {
			msg := fmt.Appendf(nil, "fd %d round %d;", fd, round)
			if i%5 == 0 && round%10 == 0 {
				msg = append(msg, bytes.Repeat([]byte{byte('a' + i%26)}, 10000)...) // beyond one 4 KiB buffer
			}
			want[fd] = append(want[fd], msg...)
			if _, err := servers[fd].Write(msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		complete := true
		for _, fd := range fds {
			if len(got[fd]) < len(want[fd]) {
				complete = false
			}
		}
		mu.Unlock()
		if complete || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, s := range servers { // the end of every stream: no re-arming, no error
		s.Close()
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	<-done
	for i, fd := range fds {
		if !bytes.Equal(got[fd], want[fd]) {
			t.Fatalf("socket %d (added %s): got %d bytes, want %d, or out of order", i, map[bool]string{true: "later", false: "at the start"}[i >= early], len(got[fd]), len(want[fd]))
		}
	}
}
