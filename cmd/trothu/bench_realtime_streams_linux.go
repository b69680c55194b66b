//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// openStreams opens one /events stream per token as raw non-blocking
// sockets read by epoll loops locked to threads of their own: the load
// generator then costs a read(2) and a scan per delivery, not a goroutine
// wake-up and an HTTP body reader, so it takes as little CPU as it can from
// the server it measures (they share the machine). Each loop owns a shard
// of the sockets. It returns once every stream has sent its "ready" event,
// and a function that closes them all.
func openStreams(base string, toks []string, loops int, st *rtStreams, stderr io.Writer) (closeAll func(), err error) {
	u := base
	if h, ok := bytes.CutPrefix([]byte(u), []byte("http://")); ok {
		u = string(h)
	}
	addr, err := net.ResolveTCPAddr("tcp4", u)
	if err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	loops = max(1, loops)
	eps := make([]int, loops)
	for i := range eps {
		if eps[i], err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
			return nil, fmt.Errorf("epoll: %w", err)
		}
	}
	fds := make([]int, len(toks))
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i, tok := range toks {
		fds[i] = -1
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, tok string) {
			defer wg.Done()
			defer func() { <-sem }()
			fd, err := dialStream(*sa, u, tok)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			fds[i] = fd
			st.streams.Add(1)
		}(i, tok)
	}
	wg.Wait()
	if firstErr != nil {
		fmt.Fprintln(stderr, "client: connect:", firstErr)
	}
	stop := make(chan struct{})
	var done sync.WaitGroup
	if clientIO == "uring" {
		if started, err := startURingLoops(fds, loops, st, stop, &done); started && err != nil {
			close(stop)
			return nil, err
		} else if err != nil {
			fmt.Fprintln(stderr, "client: io_uring unavailable, reading with epoll:", err)
			clientIO = "epoll"
		}
	}
	if clientIO != "uring" {
		for i, fd := range fds {
			if fd < 0 {
				continue
			}
			ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(fd)}
			if err := syscall.EpollCtl(eps[i%loops], syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
				return nil, fmt.Errorf("epoll: %w", err)
			}
		}
		for _, ep := range eps {
			done.Add(1)
			go func(ep int) {
				defer done.Done()
				runtime.LockOSThread()
				partial := carry{} // timing each message frame; one split across reads waits for its end
				epollLoop(ep, func(fd int, data []byte) { partial.feed(st, fd, data) }, stop)
			}(ep)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			done.Wait()
			for _, fd := range fds {
				if fd >= 0 {
					syscall.Close(fd)
					st.ended.Add(1)
				}
			}
			for _, ep := range eps {
				syscall.Close(ep)
			}
		})
	}, nil
}

// startURingLoops reads fds with loops io_uring loops (see uringLoop),
// each with a share of the sockets; it returns once they are armed, or
// the error that kept one from starting, and whether any had started.
func startURingLoops(fds []int, loops int, st *rtStreams, stop <-chan struct{}, done *sync.WaitGroup) (started bool, err error) {
	shares := make([][]int, loops)
	for i, fd := range fds {
		if fd >= 0 {
			shares[i%loops] = append(shares[i%loops], fd)
		}
	}
	for i, share := range shares {
		ready := make(chan error, 1)
		done.Add(1)
		go func() {
			defer done.Done()
			partial := carry{}
			uringLoop(share, nil, func(fd int, data []byte) { partial.feed(st, fd, data) }, stop, ready)
		}()
		if err := <-ready; err != nil {
			return i > 0, err
		}
	}
	return true, nil
}

// dialStream connects, asks for /events with the token and reads the
// response until the stream's "ready" event, all blocking; then it makes
// the socket non-blocking for the epoll loop.
func dialStream(sa syscall.SockaddrInet4, host, tok string) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	fail := func(err error) (int, error) { syscall.Close(fd); return -1, err }
	if err := syscall.Connect(fd, &sa); err != nil { // a copy: Connect writes into it
		return fail(err)
	}
	req := "GET /events HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + tok + "\r\nAccept: text/event-stream\r\n\r\n"
	if _, err := syscall.Write(fd, []byte(req)); err != nil {
		return fail(err)
	}
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("event: ready\n")) {
		n, err := syscall.Read(fd, buf)
		if err != nil || n <= 0 {
			return fail(fmt.Errorf("stream ended before ready (%v): %q", err, got))
		}
		got = append(got, buf[:n]...)
		if !bytes.HasPrefix(got, []byte("HTTP/1.1 200")) && len(got) >= 12 {
			return fail(fmt.Errorf("status: %q", got[:min(len(got), 64)]))
		}
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return fail(err)
	}
	return fd, nil
}

// epollLoop reads every ready socket of ep until stop closes, giving fn
// what arrives on each.
func epollLoop(ep int, fn func(fd int, data []byte), stop <-chan struct{}) {
	pace := poller{every: clientPoll}
	events := make([]syscall.EpollEvent, 1024)
	buf := make([]byte, 64<<10)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, err := pace.wait(ep, events)
		if err != nil && err != syscall.EINTR {
			return
		}
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			for {
				m, err := rawRead(fd, buf)
				if m <= 0 {
					if err != syscall.EAGAIN {
						_ = syscall.EpollCtl(ep, syscall.EPOLL_CTL_DEL, fd, nil)
					}
					break
				}
				fn(fd, buf[:m])
				if m < len(buf) {
					break
				}
			}
		}
	}
}

// carry keeps, per socket, the start of a frame whose end has not arrived.
type carry map[int][]byte

// feed scans the whole lines of what arrived on fd, after what was carried.
func (c carry) feed(st *rtStreams, fd int, data []byte) {
	if p := c[fd]; len(p) > 0 {
		data = append(p, data...)
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	st.scan(data[:end], time.Now().UnixNano())
	if end < len(data) {
		c[fd] = append(c[fd][:0], data[end:]...)
	} else if len(c[fd]) > 0 {
		c[fd] = c[fd][:0]
	}
}

// uringLoop reads fds, and the sockets that come on more, through one
// io_uring until stop closes; fn gets each arrival. It runs on a locked
// thread of its own, which owns the ring. ready is closed once fds are
// armed (or with the error that stopped it).
func uringLoop(fds []int, more <-chan int, fn func(fd int, data []byte), stop <-chan struct{}, ready chan<- error) {
	runtime.LockOSThread()
	r, err := newURingReader(4096, 16384, 4096)
	if err == nil {
		for _, fd := range fds {
			if err = r.recv(fd); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = r.enter()
	}
	ready <- err
	if err != nil {
		if r != nil {
			r.close()
		}
		return
	}
	defer r.close()
	every := max(clientPoll, 100*time.Microsecond)
	for {
		select {
		case <-stop:
			return
		case fd := <-more:
			if r.recv(fd) != nil {
				return
			}
			continue
		default:
		}
		n, err := r.poll(fn)
		if err != nil {
			return
		}
		if n < 64 {
			rawNanosleep(every)
		}
	}
}

var bodyMarker = []byte(`"body":"t=`)

// scan records the latency of every message frame in b, which holds whole
// lines only.
func (st *rtStreams) scan(b []byte, now int64) {
	for {
		i := bytes.Index(b, bodyMarker)
		if i < 0 {
			return
		}
		b = b[i+len(bodyMarker):]
		j := bytes.IndexByte(b, ';')
		if j < 0 {
			return
		}
		if sent, ok := parseNanos(b[:j]); ok {
			st.hist.add(time.Duration(now - sent))
			atomic.StoreInt64(&st.lastAt, now)
		}
		b = b[j:]
	}
}

// startSink accepts raw TCP connections (the floor's far end) and reads
// and discards what arrives with an epoll loop like the streams' own, so
// that a write costs the floor what it costs the server: the same reader
// on the other side.
func startSink(total *atomic.Int64) (string, func(), error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		ln.Close()
		return "", nil, err
	}
	var mu sync.Mutex
	var files []*os.File // keep the sockets open while the loop reads them
	stop := make(chan struct{})
	done := make(chan struct{})
	var more chan int
	if clientIO == "uring" {
		more = make(chan int, 1024)
		ready := make(chan error, 1)
		go func() {
			defer close(done)
			uringLoop(nil, more, func(_ int, data []byte) { total.Add(int64(len(data))) }, stop, ready)
		}()
		if err := <-ready; err != nil {
			ln.Close()
			syscall.Close(ep)
			return "", nil, err
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f, err := c.(*net.TCPConn).File()
			c.Close()
			if err != nil {
				continue
			}
			fd := int(f.Fd())
			if syscall.SetNonblock(fd, true) != nil {
				f.Close()
				continue
			}
			mu.Lock()
			files = append(files, f)
			mu.Unlock()
			if more != nil {
				more <- fd
				continue
			}
			ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(fd)}
			_ = syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev)
		}
	}()
	if more == nil {
		go func() {
			defer close(done)
			runtime.LockOSThread()
			epollLoop(ep, func(_ int, data []byte) { total.Add(int64(len(data))) }, stop)
		}()
	}
	var once sync.Once
	return ln.Addr().String(), func() {
		once.Do(func() {
			ln.Close()
			close(stop)
			<-done
			mu.Lock()
			for _, f := range files {
				f.Close()
			}
			mu.Unlock()
			syscall.Close(ep)
		})
	}, nil
}

// epollET asks for edge-triggered readiness: a socket is reported once per
// arrival, not polled again on the next wait to find it drained (level
// triggering cost the generator a second sock_poll per delivery). The loops
// read until a short read, which drains the socket; data that arrives
// later is a new edge.
const epollET = 1 << 31 // syscall.EPOLLET, as the uint32 EpollEvent wants

// clientIO is how the generator reads (--io): "uring" (io_uring, the
// default; epoll when the kernel refuses it) or "epoll".
var clientIO = "uring"

// clientPoll is how often the generator's loops look for data (--poll); 0
// sleeps in epoll_wait instead. See poller.
var clientPoll time.Duration

// poller waits for ready sockets. With every > 0 it never sleeps inside
// epoll_wait: it asks without waiting and, when little was ready last time,
// sleeps for every first. A server's write to a socket whose reader sleeps
// in epoll_wait pays for waking that thread (a scheduler wake-up on every
// delivery); 10,000 phones on other machines cost the server no such thing,
// so the generator should not either. Readings are late by at most every,
// which makes latencies a little worse, never better.
type poller struct {
	every time.Duration
	last  int
}

func (p *poller) wait(ep int, events []syscall.EpollEvent) (int, error) {
	if p.every <= 0 {
		return syscall.EpollWait(ep, events, 100)
	}
	if p.last < len(events)/8 {
		rawNanosleep(p.every) // holding the thread's P: the runtime's monitor then has nothing to retake
	}
	n, err := rawEpollWait(ep, events, 0) // never blocks: a raw call (see rawRead)
	p.last = max(n, 0)
	return n, err
}
