//go:build linux

package main

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// uringReader reads many sockets through io_uring, for the realtime load
// generator: each socket has one multishot receive armed, the kernel
// fills buffers from a ring the reader provides and posts a completion
// per arrival, and the reader collects them in batches. A delivery then
// costs the generator no system call of its own (no epoll_wait, no
// read(2)), only the kernel's receive; and the server's write wakes no
// one (completions wait, deferred, until the reader asks). It must be
// used from one locked OS thread: the ring is single-issuer.
type uringReader struct {
	fd int

	ring []byte // the submission and completion rings, one mapping
	sqes []byte

	sqHead, sqTail *uint32
	sqMask         uint32
	sqEntries      uint32
	sqArray        unsafe.Pointer
	queued         uint32 // submissions written but not yet entered

	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           unsafe.Pointer

	bufRing  []byte // io_uring_buf entries; the ring's tail is at byte 14
	bufMem   []byte
	bufSize  int
	bufCount int
	bufTail  uint16

	// The zero timeout of enter, off the stack (which may move) because
	// the kernel reads it through a pointer inside arg.
	arg  *uringGetEventsArg
	zero *[2]int64 // struct __kernel_timespec
}

// Kernel interface (include/uapi/linux/io_uring.h).
const (
	sysIOURingSetup    = 425
	sysIOURingEnter    = 426
	sysIOURingRegister = 427

	iouringSetupCQSize         = 1 << 3
	iouringSetupSingleIssuer   = 1 << 12
	iouringSetupDeferTaskrun   = 1 << 13
	iouringFeatSingleMmap      = 1 << 0
	iouringOffSQEs             = 0x10000000
	iouringOpRecv              = 27
	iouringRecvMultishot       = 1 << 1
	iosqeBufferSelect          = 1 << 5
	iouringRegisterPbufRing    = 22
	iouringCQEFBuffer          = 1 << 0
	iouringCQEFMore            = 1 << 1
	iouringCQEBufferShift      = 16
	iouringEnterGetEvents      = 1 << 0
	iouringEnterExtArg         = 1 << 3
	uringBufGroup              = 1
	uringSQESize, uringCQESize = 64, 16
)

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  uringSQOffsets
	cqOff                                                                  uringCQOffsets
}

type uringSQOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type uringCQOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringGetEventsArg struct {
	sigmask     uint64
	sigmaskSize uint32
	minWaitUsec uint32
	ts          uint64
}

type uringBufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	resv        [3]uint64
}

// newURingReader sets up a ring with sq submission entries and bufs
// receive buffers of bufSize bytes (bufs a power of two ≤ 32768).
func newURingReader(sq, bufs, bufSize int) (*uringReader, error) {
	p := uringParams{flags: iouringSetupCQSize | iouringSetupSingleIssuer | iouringSetupDeferTaskrun, cqEntries: uint32(4 * bufs)}
	fd, _, e := syscall.RawSyscall(sysIOURingSetup, uintptr(sq), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", e)
	}
	r := &uringReader{fd: int(fd), sqEntries: p.sqEntries, bufSize: bufSize, bufCount: bufs, zero: new([2]int64)}
	r.arg = &uringGetEventsArg{ts: uint64(uintptr(unsafe.Pointer(r.zero)))}
	fail := func(err error) (*uringReader, error) { r.close(); return nil, err }
	if p.features&iouringFeatSingleMmap == 0 {
		return fail(errors.New("io_uring: kernel without a single ring mapping"))
	}
	size := max(int(p.sqOff.array)+int(p.sqEntries)*4, int(p.cqOff.cqes)+int(p.cqEntries)*uringCQESize)
	var err error
	if r.ring, err = syscall.Mmap(r.fd, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
		return fail(fmt.Errorf("io_uring rings: %w", err))
	}
	if r.sqes, err = syscall.Mmap(r.fd, iouringOffSQEs, int(p.sqEntries)*uringSQESize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
		return fail(fmt.Errorf("io_uring entries: %w", err))
	}
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&r.ring[off]) }
	r.sqHead, r.sqTail = (*uint32)(at(p.sqOff.head)), (*uint32)(at(p.sqOff.tail))
	r.sqMask = *(*uint32)(at(p.sqOff.ringMask))
	r.sqArray = at(p.sqOff.array)
	r.cqHead, r.cqTail = (*uint32)(at(p.cqOff.head)), (*uint32)(at(p.cqOff.tail))
	r.cqMask = *(*uint32)(at(p.cqOff.ringMask))
	r.cqes = at(p.cqOff.cqes)

	anon := syscall.MAP_PRIVATE | syscall.MAP_ANONYMOUS | syscall.MAP_POPULATE
	if r.bufRing, err = syscall.Mmap(-1, 0, bufs*16, syscall.PROT_READ|syscall.PROT_WRITE, anon); err != nil {
		return fail(err)
	}
	if r.bufMem, err = syscall.Mmap(-1, 0, bufs*bufSize, syscall.PROT_READ|syscall.PROT_WRITE, anon); err != nil {
		return fail(err)
	}
	reg := uringBufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&r.bufRing[0]))), ringEntries: uint32(bufs), bgid: uringBufGroup}
	if _, _, e := syscall.RawSyscall6(sysIOURingRegister, uintptr(r.fd), iouringRegisterPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); e != 0 {
		return fail(fmt.Errorf("io_uring buffer ring: %w", e))
	}
	for i := 0; i < bufs; i++ {
		r.giveBuf(uint16(i))
	}
	r.publishBufs()
	return r, nil
}

// giveBuf hands buffer id back to the kernel; publishBufs makes the
// buffers given since the last call visible to it.
func (r *uringReader) giveBuf(id uint16) {
	e := unsafe.Pointer(&r.bufRing[int(r.bufTail&uint16(r.bufCount-1))*16])
	*(*uint64)(e) = uint64(uintptr(unsafe.Pointer(&r.bufMem[int(id)*r.bufSize])))
	*(*uint32)(unsafe.Add(e, 8)) = uint32(r.bufSize)
	*(*uint16)(unsafe.Add(e, 12)) = id
	r.bufTail++
}

func (r *uringReader) publishBufs() {
	atomicStoreUint16((*uint16)(unsafe.Pointer(&r.bufRing[14])), r.bufTail)
}

// atomicStoreUint16 publishes the buffer ring's tail. The 16-bit tail
// shares a 32-bit word with the first entry's buffer id, which the kernel
// only reads and this thread alone writes, so a 32-bit atomic store of
// that word is a release store of the tail.
func atomicStoreUint16(p *uint16, v uint16) {
	w := (*uint32)(unsafe.Add(unsafe.Pointer(p), -2))
	old := atomic.LoadUint32(w)
	atomic.StoreUint32(w, old&0x0000ffff|uint32(v)<<16)
}

// recv arms a multishot receive on socket fd.
func (r *uringReader) recv(fd int) error {
	tail := atomic.LoadUint32(r.sqTail)
	if tail-atomic.LoadUint32(r.sqHead) >= r.sqEntries {
		if err := r.enter(); err != nil {
			return err
		}
		if tail-atomic.LoadUint32(r.sqHead) >= r.sqEntries {
			return errors.New("io_uring: submission queue full")
		}
	}
	i := tail & r.sqMask
	sqe := r.sqes[int(i)*uringSQESize : int(i+1)*uringSQESize]
	clear(sqe)
	sqe[0] = iouringOpRecv
	sqe[1] = iosqeBufferSelect
	*(*uint16)(unsafe.Pointer(&sqe[2])) = iouringRecvMultishot
	*(*int32)(unsafe.Pointer(&sqe[4])) = int32(fd)
	*(*uint64)(unsafe.Pointer(&sqe[32])) = uint64(fd)
	*(*uint16)(unsafe.Pointer(&sqe[40])) = uringBufGroup
	*(*uint32)(unsafe.Add(r.sqArray, 4*uintptr(i))) = i
	atomic.StoreUint32(r.sqTail, tail+1)
	r.queued++
	return nil
}

// enter submits what is queued and runs the kernel's deferred receives,
// without waiting: their completions are then in the queue. It asks for
// many completions with a zero timeout, because the kernel runs at most
// that many deferred receives in one call (20 when asked for none).
func (r *uringReader) enter() error {
	for {
		n, _, e := syscall.RawSyscall6(sysIOURingEnter, uintptr(r.fd), uintptr(r.queued), uintptr(r.bufCount),
			iouringEnterGetEvents|iouringEnterExtArg, uintptr(unsafe.Pointer(r.arg)), unsafe.Sizeof(*r.arg))
		if e == syscall.EINTR {
			continue
		}
		if e == syscall.ETIME { // fewer completions than asked for: all there were
			return nil
		}
		if e != 0 {
			return fmt.Errorf("io_uring_enter: %w", e)
		}
		r.queued -= min(r.queued, uint32(n))
		return nil
	}
}

// poll enters the ring and calls fn with each socket's data, in arrival
// order; it returns how many completions it handled. A receive that ended
// (out of buffers) is armed again; one that saw the end of its stream
// (res 0) or an error is not.
func (r *uringReader) poll(fn func(fd int, data []byte)) (int, error) {
	if err := r.enter(); err != nil {
		return 0, err
	}
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail)
	n := 0
	for ; head != tail; head++ {
		c := unsafe.Add(r.cqes, uintptr(head&r.cqMask)*uringCQESize)
		fd := int(*(*uint64)(c))
		res := *(*int32)(unsafe.Add(c, 8))
		flags := *(*uint32)(unsafe.Add(c, 12))
		n++
		if flags&iouringCQEFBuffer != 0 {
			id := uint16(flags >> iouringCQEBufferShift)
			if res > 0 {
				off := int(id) * r.bufSize
				fn(fd, r.bufMem[off:off+int(res)])
			}
			r.giveBuf(id)
		}
		if flags&iouringCQEFMore == 0 && (res > 0 || res == -int32(syscall.ENOBUFS)) {
			if err := r.recv(fd); err != nil {
				return n, err
			}
		}
	}
	atomic.StoreUint32(r.cqHead, head)
	if n > 0 {
		r.publishBufs()
	}
	return n, nil
}

func (r *uringReader) close() {
	for _, m := range [][]byte{r.ring, r.sqes, r.bufRing, r.bufMem} {
		if m != nil {
			_ = syscall.Munmap(m)
		}
	}
	if r.fd > 0 {
		syscall.Close(r.fd)
	}
}
