//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// httpLoader is the generator's connections on Linux: raw non-blocking
// sockets watched by one epoll instance and driven by run on a thread of
// its own. A request then costs the generator a write(2), a read(2) and a
// short parse, not a goroutine switch and net/http's machinery: the point
// is to take as little as possible of the CPU the server it measures needs
// (they share the machine).
type httpLoader struct {
	sa    syscall.SockaddrInet4
	ep    int
	poll  time.Duration
	conns []*hlConn
	byFD  []*hlConn // by file descriptor
	buf   []byte
}

// hlConn is one keep-alive connection with at most one request in flight.
type hlConn struct {
	fd       int
	in       []byte // the start of an answer not yet whole
	out      []byte // what a short write left of the request
	sent     time.Time
	busy     bool // a request is in flight
	watchOut bool // epoll also reports when the socket takes more
	queued   bool // in the run's ready list
	dead     bool // could not be reopened
}

func openHTTPLoad(addr string, clients int, poll time.Duration) (*httpLoader, error) {
	ta, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return nil, err
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	l := &httpLoader{sa: syscall.SockaddrInet4{Port: ta.Port}, ep: ep, poll: poll, buf: make([]byte, 64<<10)}
	copy(l.sa.Addr[:], ta.IP.To4())
	for range max(clients, 1) {
		c := &hlConn{}
		if err := l.dial(c); err != nil {
			l.close()
			return nil, fmt.Errorf("connect to %s: %w", addr, err)
		}
		l.conns = append(l.conns, c)
	}
	return l, nil
}

// dial opens c's socket (blocking), then makes it non-blocking and watches
// it for answers.
func (l *httpLoader) dial(c *hlConn) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	sa := l.sa // Connect writes into its argument
	err = syscall.Connect(fd, &sa)
	if err == nil {
		err = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	if err == nil {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
		err = syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_ADD, fd, &ev)
	}
	if err != nil {
		syscall.Close(fd)
		return err
	}
	for len(l.byFD) <= fd {
		l.byFD = append(l.byFD, nil)
	}
	l.byFD[fd] = c
	c.fd, c.in, c.out, c.busy, c.watchOut = fd, c.in[:0], nil, false, false
	return nil
}

// hangUp closes c's socket; the caller reopens it or gives it up.
func (l *httpLoader) hangUp(c *hlConn) {
	if c.fd >= 0 {
		l.byFD[c.fd] = nil
		syscall.Close(c.fd) // also leaves the epoll set
		c.fd = -1
	}
}

func (l *httpLoader) close() {
	for _, c := range l.conns {
		l.hangUp(c)
	}
	syscall.Close(l.ep)
}

// hlRun is the state of one run.
type hlRun struct {
	l        *httpLoader
	reqs     [][]byte
	total    int       // requests to send, or 0
	deadline time.Time // when total is 0: send none after this
	rep      httpLoadReport
	hist     latHist
	inflight int
	ready    []*hlConn // connections waiting for their next request
}

// run sends reqs round-robin over the connections, one request in flight
// on each, and waits for every answer: exactly total requests when
// total > 0, else as many as fit in dur.
func (l *httpLoader) run(reqs [][]byte, total int, dur time.Duration) httpLoadReport {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const stall = 30 * time.Second
	cpu0 := cpuTime()
	start := time.Now()
	r := &hlRun{l: l, reqs: reqs, total: total, deadline: start.Add(dur), rep: httpLoadReport{Connections: len(l.conns)}}
	for _, c := range l.conns {
		if !c.dead {
			r.queue(c)
		}
	}
	events := make([]syscall.EpollEvent, len(l.conns)+1)
	pace := hlPoller{every: l.poll, few: max(len(l.conns)/8, 1)}
	lastDone, lastEvent := start, start
	for {
		now := time.Now()
		for len(r.ready) > 0 {
			c := r.ready[len(r.ready)-1]
			r.ready = r.ready[:len(r.ready)-1]
			c.queued = false
			r.send(c, now)
		}
		if r.inflight == 0 {
			break
		}
		n, err := pace.wait(l.ep, events)
		if err != nil && err != syscall.EINTR {
			r.rep.noteError("epoll_wait: " + err.Error())
			break
		}
		now = time.Now()
		if n <= 0 {
			if now.Sub(lastEvent) > stall {
				for _, c := range l.conns {
					if c.busy {
						r.fail(c, fmt.Errorf("no answer within %v", stall))
					}
				}
				for _, c := range r.ready {
					c.queued = false
				}
				r.ready = r.ready[:0]
				break
			}
			continue
		}
		lastEvent = now
		done := r.rep.OK + r.rep.Errors
		for _, ev := range events[:n] {
			c := l.byFD[ev.Fd]
			if c == nil {
				continue
			}
			if ev.Events&syscall.EPOLLOUT != 0 && len(c.out) > 0 {
				if err := r.flush(c); err != nil {
					r.fail(c, err)
					continue
				}
			}
			if ev.Events&^syscall.EPOLLOUT != 0 {
				r.read(c, now)
			}
		}
		if r.rep.OK+r.rep.Errors > done {
			lastDone = now
		}
	}
	r.rep.finish(&r.hist, lastDone.Sub(start), cpuTime()-cpu0)
	return r.rep
}

// send writes c's next request, if any is left.
func (r *hlRun) send(c *hlConn, now time.Time) {
	if r.total > 0 && r.rep.Sent >= int64(r.total) || r.total <= 0 && !now.Before(r.deadline) {
		return
	}
	req := r.reqs[r.rep.Sent%int64(len(r.reqs))]
	r.rep.Sent++
	r.inflight++
	c.busy, c.sent, c.out = true, now, req
	if err := r.flush(c); err != nil {
		r.fail(c, err)
	}
}

// flush writes what is left of c's request; after a short write it asks
// epoll to say when the socket takes more.
func (r *hlRun) flush(c *hlConn) error {
	for len(c.out) > 0 {
		n, err := rawWrite(c.fd, c.out)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil {
			return err
		}
		c.out = c.out[n:]
	}
	if pending := len(c.out) > 0; pending != c.watchOut {
		events := uint32(syscall.EPOLLIN | syscall.EPOLLRDHUP)
		if pending {
			events |= syscall.EPOLLOUT
		}
		ev := syscall.EpollEvent{Events: events, Fd: int32(c.fd)}
		if err := syscall.EpollCtl(r.l.ep, syscall.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
			return err
		}
		c.watchOut = pending
	}
	return nil
}

var errUnasked = errors.New("an answer to no request")

// read takes what c's socket holds and completes the answers in it.
func (r *hlRun) read(c *hlConn, now time.Time) {
	for {
		m, err := rawRead(c.fd, r.l.buf)
		if m <= 0 {
			switch {
			case err == syscall.EAGAIN:
			case err == syscall.EINTR:
				continue
			case err == nil:
				r.fail(c, errors.New("the server closed the connection"))
			default:
				r.fail(c, err)
			}
			return
		}
		data := r.l.buf[:m]
		if len(c.in) > 0 {
			c.in = append(c.in, data...)
			data = c.in
		}
		for len(data) > 0 {
			n, status, body, closing, err := parseResponse(data)
			if err == nil && n > 0 && !c.busy {
				r.rep.noteError(errUnasked.Error())
				r.reopen(c)
				return
			}
			if err != nil {
				r.fail(c, err)
				return
			}
			if n == 0 {
				break
			}
			data = data[n:]
			r.complete(c, status, body, now)
			if closing {
				if len(data) > 0 {
					r.rep.noteError(errUnasked.Error())
				}
				r.reopen(c)
				return
			}
			r.queue(c)
		}
		c.in = append(c.in[:0], data...)
		if m < len(r.l.buf) {
			return
		}
	}
}

// complete records the answer to c's request.
func (r *hlRun) complete(c *hlConn, status int, body []byte, now time.Time) {
	if status/100 == 2 {
		r.rep.OK++
		r.hist.add(now.Sub(c.sent))
	} else {
		r.rep.noteStatus(status, body)
	}
	c.busy = false
	r.inflight--
}

// queue readies c for its next request.
func (r *hlRun) queue(c *hlConn) {
	if !c.queued {
		c.queued = true
		r.ready = append(r.ready, c)
	}
}

// fail counts c's request in flight, if any, as lost and reopens c (an
// idle connection the server closed is no error).
func (r *hlRun) fail(c *hlConn, err error) {
	if c.busy {
		r.rep.noteError("connection: " + err.Error())
		c.busy = false
		r.inflight--
	}
	r.reopen(c)
}

func (r *hlRun) reopen(c *hlConn) {
	r.l.hangUp(c)
	if err := r.l.dial(c); err != nil {
		c.dead = true
		r.rep.noteError("reconnect: " + err.Error())
		return
	}
	r.queue(c)
}

// hlPoller waits for ready sockets. With every > 0 it never sleeps inside
// epoll_wait: when few answers were ready last time it sleeps for every,
// then asks without waiting. An answer written to a socket whose reader
// sleeps in epoll_wait makes the server's thread pay for waking the
// generator's; clients on other machines cost the server no such thing.
// Answers are noticed late by at most every, which makes latencies a
// little worse, never better.
type hlPoller struct {
	every time.Duration
	few   int // fewer ready than this last time: sleep first
	last  int
}

func (p *hlPoller) wait(ep int, events []syscall.EpollEvent) (int, error) {
	if p.every <= 0 {
		return rawEpollWait(ep, events, 10)
	}
	if p.last < p.few {
		rawNanosleep(p.every)
	}
	n, err := rawEpollWait(ep, events, 0)
	p.last = max(n, 0)
	return n, err
}

// The run loop calls the kernel through RawSyscall, without telling the Go
// scheduler: it runs alone on its locked thread. A P seen "in a syscall"
// for the 10 ms sysmon allows a goroutine is taken from its thread and
// handed to another, and sysmon then wakes every 20 µs for a while: that
// took about a sixth of the generator's CPU (perf, /healthz floor). The
// epoll_wait timeout stays short because the thread holds its P meanwhile
// (a stop-the-world signal interrupts it anyway).

func rawRead(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(n), errnoErr(e)
}

func rawWrite(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(n), errnoErr(e)
}

// rawEpollWait is epoll_wait(2) as epoll_pwait with no signal mask (arm64
// has only the latter).
func rawEpollWait(ep int, events []syscall.EpollEvent, msec int) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), uintptr(msec), 0, 0)
	return int(n), errnoErr(e)
}

func rawNanosleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_, _, _ = syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
