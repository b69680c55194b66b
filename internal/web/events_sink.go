package web

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// sseConn is the realtime.Sink of a taken-over event stream: the broker's
// writers write its frames to the socket without blocking, so an event
// costs a subscriber one write(2) and no goroutine of its own. What the
// socket does not take at once waits in backlog, which a goroutine started
// for the occasion writes with a deadline; while it does, new frames join
// the backlog, so the order never changes. A client that falls
// maxBacklog behind, or stalls for writeGrace, is cut off: it reconnects
// and resumes from its last event id.
type sseConn struct {
	c  net.Conn
	fd int // c's descriptor: written while !gone only, and c is closed under mu, so never a reused one

	mu       sync.Mutex
	backlog  []byte
	spare    []byte // the flusher's other buffer
	flushing bool   // a goroutine is writing backlog
	gone     bool
}

// maxBacklog is how far a stream may fall behind the socket before it is
// cut off, beside what the kernel's send buffer already holds.
const maxBacklog = 256 << 10

// newSSEConn returns the sink of c, or nil when c is not a socket it can
// write without blocking (a TLS connection): the caller then streams with
// a goroutine.
func newSSEConn(c net.Conn) *sseConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil || !canWriteRaw {
		return nil
	}
	fd := -1
	if raw.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return nil
	}
	// Until start has sent the head, frames wait in the backlog.
	return &sseConn{c: c, fd: fd, flushing: true}
}

// start sends head (the response head and the stream's first events)
// before every frame that came since the subscription began.
func (k *sseConn) start(head []byte) {
	_ = k.c.SetWriteDeadline(time.Time{}) // the server's own deadline, if any, is not the stream's
	k.mu.Lock()
	k.backlog = append(head, k.backlog...)
	k.mu.Unlock()
	go k.flush()
}

// Frames writes b now if nothing is waiting and the socket takes it, and
// keeps it otherwise.
func (k *sseConn) Frames(b []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gone {
		return
	}
	if k.flushing {
		if len(k.backlog)+len(b) > maxBacklog {
			k.cutLocked()
			return
		}
		k.backlog = append(k.backlog, b...)
		return
	}
	n, err := writeRaw(k.fd, b)
	if err != nil {
		k.cutLocked()
		return
	}
	if n < len(b) {
		k.backlog = append(k.backlog[:0], b[n:]...)
		k.flushing = true
		go k.flush()
	}
}

// Ended is called by the broker when the subscription ends.
func (k *sseConn) Ended() { k.close() }

// close closes the socket (its reader and a flusher, if any, return); no
// write follows.
func (k *sseConn) close() {
	k.mu.Lock()
	k.cutLocked()
	k.mu.Unlock()
}

// cutLocked ends the stream, for example one that cannot keep up: closing
// the socket ends its reading goroutine, which ends the subscription.
func (k *sseConn) cutLocked() {
	k.gone = true
	k.backlog = nil
	k.c.Close()
}

// flush writes the backlog, blocking with a deadline, until it is empty.
func (k *sseConn) flush() {
	for {
		k.mu.Lock()
		if k.gone {
			k.mu.Unlock()
			return
		}
		if len(k.backlog) == 0 {
			// Writes go back to the broker's writers; they must find no
			// deadline on the socket (a passed one fails every write).
			_ = k.c.SetWriteDeadline(time.Time{})
			k.flushing = false
			k.spare = nil // an idle stream keeps no buffers
			k.backlog = nil
			k.mu.Unlock()
			return
		}
		out := k.backlog
		k.backlog = k.spare[:0]
		k.mu.Unlock()
		if k.c.SetWriteDeadline(time.Now().Add(writeGrace)) != nil {
			k.close()
			return
		}
		if _, err := k.c.Write(out); err != nil {
			k.close()
			return
		}
		k.spare = out[:0]
	}
}
