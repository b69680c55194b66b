//go:build !linux

package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// httpLoader is the generator's connections elsewhere than Linux: a
// goroutine per connection, net/http's response reader (the Linux file has
// the lean epoll loop the figures come from).
type httpLoader struct {
	addr  string
	conns []*olConn
}

type olConn struct {
	c  net.Conn
	br *bufio.Reader
}

func openHTTPLoad(addr string, clients int, _ time.Duration) (*httpLoader, error) {
	l := &httpLoader{addr: addr}
	for range max(clients, 1) {
		c := &olConn{}
		if err := l.dial(c); err != nil {
			l.close()
			return nil, err
		}
		l.conns = append(l.conns, c)
	}
	return l, nil
}

func (l *httpLoader) dial(c *olConn) error {
	nc, err := net.Dial("tcp", l.addr)
	if err != nil {
		return err
	}
	c.c, c.br = nc, bufio.NewReader(nc)
	return nil
}

func (l *httpLoader) close() {
	for _, c := range l.conns {
		if c.c != nil {
			c.c.Close()
		}
	}
}

// run sends reqs round-robin over the connections, one request in flight
// on each: exactly total requests when total > 0, else as many as fit in
// dur.
func (l *httpLoader) run(reqs [][]byte, total int, dur time.Duration) httpLoadReport {
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(dur)
	var mu sync.Mutex
	rep := httpLoadReport{Connections: len(l.conns)}
	var hist latHist
	lastDone := start
	var wg sync.WaitGroup
	for _, c := range l.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var own latHist
			for {
				mu.Lock()
				if total > 0 && rep.Sent >= int64(total) || total <= 0 && !time.Now().Before(deadline) || c.c == nil {
					hist.merge(&own)
					mu.Unlock()
					return
				}
				req := reqs[rep.Sent%int64(len(reqs))]
				rep.Sent++
				mu.Unlock()
				t0 := time.Now()
				status, body, err := l.roundTrip(c, req)
				now := time.Now()
				mu.Lock()
				lastDone = now
				switch {
				case err != nil:
					rep.noteError("connection: " + err.Error())
					c.c.Close()
					if err := l.dial(c); err != nil {
						c.c = nil
					}
				case status/100 == 2:
					rep.OK++
					own.add(now.Sub(t0))
				default:
					rep.noteStatus(status, body)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.finish(&hist, lastDone.Sub(start), cpuTime()-cpu0)
	return rep
}

func (l *httpLoader) roundTrip(c *olConn, req []byte) (int, []byte, error) {
	if _, err := c.c.Write(req); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && resp.Close {
		c.c.Close()
		err = l.dial(c)
	}
	return resp.StatusCode, body, err
}

// merge adds o's counts to h's (a connection's own histogram at the end of
// a run; the Linux loop has one histogram and needs none).
func (h *latHist) merge(o *latHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}
