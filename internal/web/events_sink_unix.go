//go:build unix

package web

import "syscall"

const canWriteRaw = true

// writeRaw writes b to socket fd without waiting: it returns how much the
// socket took (0 when its buffer is full), or the error that ends the
// stream. The caller guarantees fd is still its connection's.
func writeRaw(fd int, b []byte) (int, error) {
	for {
		n, err := writeNow(fd, b)
		switch err {
		case nil:
			return n, nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		}
		return 0, err
	}
}
