//go:build !linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// openStreams opens one /events stream per token, each read by a goroutine
// (elsewhere than Linux, where epoll loops read them; see the Linux file).
func openStreams(base string, toks []string, _ int, st *rtStreams, stderr io.Writer) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{MaxIdleConnsPerHost: len(toks), DisableCompression: true}
	client := &http.Client{Transport: tr}
	var ready, running sync.WaitGroup
	ready.Add(len(toks))
	sem := make(chan struct{}, 100)
	for _, tok := range toks {
		sem <- struct{}{}
		running.Add(1)
		go func(tok string) {
			defer running.Done()
			once := sync.OnceFunc(ready.Done)
			defer once()
			defer st.ended.Add(1)
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := client.Do(req)
			<-sem
			if err != nil {
				fmt.Fprintln(stderr, "client: connect:", err)
				return
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				fmt.Fprintln(stderr, "client: status", res.StatusCode)
				return
			}
			st.streams.Add(1)
			br := bufio.NewReaderSize(res.Body, 4096)
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				if bytes.HasPrefix(line, []byte("event: ready")) {
					once()
					continue
				}
				if i := bytes.Index(line, []byte(`"body":"t=`)); i >= 0 {
					rest := line[i+len(`"body":"t=`):]
					if j := bytes.IndexByte(rest, ';'); j >= 0 {
						if sent, ok := parseNanos(rest[:j]); ok {
							now := time.Now().UnixNano()
							st.hist.add(time.Duration(now - sent))
							atomic.StoreInt64(&st.lastAt, now)
						}
					}
				}
			}
		}(tok)
	}
	ready.Wait()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			running.Wait()
			tr.CloseIdleConnections()
		})
	}, nil
}

// startSink accepts raw TCP connections (the floor's far end) and reads
// and discards what arrives, a goroutine per connection like the streams.
func startSink(total *atomic.Int64) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					total.Add(int64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), func() { ln.Close() }, nil
}

// clientPoll is the Linux generator's polling interval (--poll); the
// goroutine-per-stream reader here has no use for it.
var clientPoll time.Duration

// clientIO is the Linux generator's reading method (--io); unused here.
var clientIO = "goroutines"
