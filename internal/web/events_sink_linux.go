package web

import (
	"syscall"
	"unsafe"
)

// writeNow is write(2) on a non-blocking socket, made as a raw system call:
// it never blocks, so the Go scheduler need not be told. With thousands
// of streams written back to back, telling it made its monitor thread
// wake every 20 µs to look for goroutines stuck in system calls.
func writeNow(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
