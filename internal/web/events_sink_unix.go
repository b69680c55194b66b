//go:build unix

package web

import "syscall"

const canWriteRaw = true

// writeRaw writes b to the socket without waiting: it returns how much the
// socket took (0 when its buffer is full), or the error that ends the
// stream.
func writeRaw(raw syscall.RawConn, b []byte) (int, error) {
	var n int
	var werr error
	err := raw.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if werr != syscall.EINTR {
				return true // done either way: never wait for the socket here
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if werr == syscall.EAGAIN {
		return 0, nil
	}
	if werr != nil {
		return 0, werr
	}
	return n, nil
}
