//go:build unix && !linux

package web

import "syscall"

// writeNow is write(2) on a non-blocking socket.
func writeNow(fd int, b []byte) (int, error) { return syscall.Write(fd, b) }
