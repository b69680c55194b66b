// Package qr encodes short texts, such as invite links, as QR codes (ISO/IEC 18004) in byte
// mode at error-correction level M, versions 1 to 10, and renders them as SVG.
package qr

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTooLong is returned by Encode when the data does not fit in version 10 at level M
// (213 bytes; 212 when not ASCII).
var ErrTooLong = errors.New("qr: data too long for version 10-M")

// Code is an encoded QR symbol: Size×Size modules, true for dark.
type Code struct {
	Version int
	Mask    int
	Size    int
	modules []bool
}

// Dark reports whether the module at column x, row y is dark; outside the symbol it is light.
func (c *Code) Dark(x, y int) bool {
	if x < 0 || y < 0 || x >= c.Size || y >= c.Size {
		return false
	}
	return c.modules[y*c.Size+x]
}

// blockSpec is the level-M block structure of one version: ecPerBlock error-correction
// codewords per block; g1 blocks of d1 data codewords then g2 blocks of d1+1.
type blockSpec struct{ ecPerBlock, g1, d1, g2 int }

// levelM is ISO/IEC 18004 table 9 for level M, versions 1 to 10.
var levelM = [11]blockSpec{
	1: {10, 1, 16, 0}, 2: {16, 1, 28, 0}, 3: {26, 1, 44, 0}, 4: {18, 2, 32, 0},
	5: {24, 2, 43, 0}, 6: {16, 4, 27, 0}, 7: {18, 4, 31, 0}, 8: {22, 2, 38, 2},
	9: {22, 3, 36, 2}, 10: {26, 4, 43, 1},
}

func (b blockSpec) dataCodewords() int { return b.g1*b.d1 + b.g2*(b.d1+1) }

// alignment lists the alignment-pattern centre coordinates (ISO/IEC 18004 annex E).
var alignment = [11][]int{
	2: {6, 18}, 3: {6, 22}, 4: {6, 26}, 5: {6, 30}, 6: {6, 34},
	7: {6, 22, 38}, 8: {6, 24, 42}, 9: {6, 26, 46}, 10: {6, 28, 50},
}

// Encode encodes data in byte mode at level M in the smallest version that holds it, with the
// mask of lowest penalty. Data that is not plain ASCII is marked as UTF-8 (ECI 26), so readers
// do not guess another character set. It returns ErrTooLong when no version up to 10 holds it.
func Encode(data []byte) (*Code, error) {
	eciBits := 0
	if !ascii(data) {
		eciBits = 12
	}
	for v := 1; v <= 10; v++ {
		countBits := 8
		if v >= 10 {
			countBits = 16
		}
		capBits := levelM[v].dataCodewords() * 8
		if eciBits+4+countBits+8*len(data) > capBits {
			continue
		}
		return encodeVersion(v, dataCodewords(data, v, countBits, capBits), -1), nil
	}
	return nil, ErrTooLong
}

func ascii(data []byte) bool {
	for _, c := range data {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// dataCodewords builds the data bit stream: an ECI header for UTF-8 when needed, mode,
// count, bytes, terminator, padding.
func dataCodewords(data []byte, v, countBits, capBits int) []byte {
	var b bitBuffer
	if !ascii(data) {
		b.put(0b0111, 4) // ECI
		b.put(26, 8)     // UTF-8
	}
	b.put(0b0100, 4)
	b.put(len(data), countBits)
	for _, c := range data {
		b.put(int(c), 8)
	}
	b.put(0, min(4, capBits-b.n))
	b.put(0, (8-b.n%8)%8)
	for pad := 0xEC; b.n < capBits; pad ^= 0xEC ^ 0x11 {
		b.put(pad, 8)
	}
	return b.bytes
}

type bitBuffer struct {
	bytes []byte
	n     int
}

func (b *bitBuffer) put(v, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if b.n%8 == 0 {
			b.bytes = append(b.bytes, 0)
		}
		if v>>i&1 == 1 {
			b.bytes[b.n/8] |= 0x80 >> (b.n % 8)
		}
		b.n++
	}
}

// interleave splits data into blocks, appends each block's Reed–Solomon codewords and
// interleaves them as the symbol carries them.
func interleave(data []byte, v int) []byte {
	spec := levelM[v]
	var blocks, ecs [][]byte
	off := 0
	for i := 0; i < spec.g1+spec.g2; i++ {
		n := spec.d1
		if i >= spec.g1 {
			n++
		}
		blk := data[off : off+n]
		off += n
		blocks = append(blocks, blk)
		ecs = append(ecs, rsRemainder(blk, spec.ecPerBlock))
	}
	var out []byte
	for i := 0; i <= spec.d1; i++ {
		for _, blk := range blocks {
			if i < len(blk) {
				out = append(out, blk[i])
			}
		}
	}
	for i := 0; i < spec.ecPerBlock; i++ {
		for _, ec := range ecs {
			out = append(out, ec[i])
		}
	}
	return out
}

// encodeVersion builds the symbol with the given mask, or with the mask of lowest penalty when
// mask is -1.
func encodeVersion(v int, data []byte, mask int) *Code {
	size := 17 + 4*v
	m := &matrix{size: size, dark: make([]bool, size*size), fn: make([]bool, size*size)}
	m.functionPatterns(v)
	m.placeData(interleave(data, v))
	best, bestPenalty := mask, -1
	for try := 0; try < 8 && mask < 0; try++ {
		m.applyMask(try)
		m.formatBits(try)
		if p := m.penalty(); bestPenalty < 0 || p < bestPenalty {
			best, bestPenalty = try, p
		}
		m.applyMask(try)
	}
	m.applyMask(best)
	m.formatBits(best)
	return &Code{Version: v, Mask: best, Size: size, modules: m.dark}
}

// SVG renders the code as a standalone SVG image with a quiet zone of four modules; one path
// draws every dark module. The image scales to its container.
func (c *Code) SVG() string {
	var b strings.Builder
	full := c.Size + 8
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img">`, full, full)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, full, full)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if !c.Dark(x, y) {
				continue
			}
			run := 1
			for c.Dark(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+4, y+4, run, run)
			x += run - 1
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String()
}
