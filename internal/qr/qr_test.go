package qr

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFormatInfoLevelM checks the 15 format bits for every mask at level M against the
// table of ISO/IEC 18004 annex C (bit 14 first).
func TestFormatInfoLevelM(t *testing.T) {
	want := []string{
		"101010000010010", "101000100100101", "101111001111100", "101101101001011",
		"100010111111001", "100000011001110", "100111110010111", "100101010100000",
	}
	for mask, w := range want {
		if got := fmt.Sprintf("%015b", formatInfo(mask)); got != w {
			t.Errorf("mask %d: got %s, want %s", mask, got, w)
		}
	}
}

// TestVersionBits checks the version information of versions 7 to 10 (ISO/IEC 18004 annex D).
func TestVersionBits(t *testing.T) {
	want := map[int]string{
		7: "000111110010010100", 8: "001000010110111100",
		9: "001001101010011001", 10: "001010010011010011",
	}
	for v, w := range want {
		if got := fmt.Sprintf("%018b", versionBits(v)); got != w {
			t.Errorf("version %d: got %s, want %s", v, got, w)
		}
	}
}

// TestReedSolomon checks error-correction codewords of 1-M symbols from published examples:
// "01234567" in numeric mode (ISO/IEC 18004 annex I) and "HELLO WORLD" in alphanumeric mode.
func TestReedSolomon(t *testing.T) {
	cases := []struct{ name, data, ec string }{
		{"01234567", "10200C566180EC11EC11EC11EC11EC11", "A524D4C1ED36C7872C55"},
		{"HELLO WORLD", "205B0B78D172DC4D4340EC11EC11EC11", "C4232777EBD7E7E25D17"},
	}
	for _, c := range cases {
		data := unhex(t, c.data)
		if got := fmt.Sprintf("%X", rsRemainder(data, 10)); got != c.ec {
			t.Errorf("%s: got %s, want %s", c.name, got, c.ec)
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	s = strings.ReplaceAll(s, " ", "")
	var out []byte
	for i := 0; i+1 < len(s); i += 2 {
		b, err := strconv.ParseUint(s[i:i+2], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, byte(b))
	}
	return out
}

// TestDataCodewords checks the byte-mode bit stream of a 1-M symbol: mode 0100, an 8-bit
// count, the bytes, a 4-bit terminator and the EC 11 padding.
func TestDataCodewords(t *testing.T) {
	got := fmt.Sprintf("%X", dataCodewords([]byte("Hi"), 1, 8, 16*8))
	if want := "40248690EC11EC11EC11EC11EC11EC11"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestRoundTrip encodes texts of every length class up to version 10, reads the SVG back with
// an independent decoder and checks the text, the version and the error correction.
func TestRoundTrip(t *testing.T) {
	texts := []string{
		"",
		"Hi",
		"https://trothu.example/join/abc",
		"https://tổ-7.phường.vn/join/" + strings.Repeat("Zx9", 20),
		strings.Repeat("0123456789", 10),
		strings.Repeat("Cô Út mua giúp. ", 9),
		strings.Repeat("q", 213),
		strings.Repeat("ư", 106), // 212 bytes of UTF-8
	}
	for l := 1; l <= 213; l += 17 {
		texts = append(texts, strings.Repeat("a", l))
	}
	versions := map[int]bool{}
	for _, text := range texts {
		c, err := Encode([]byte(text))
		if err != nil {
			t.Fatalf("Encode(%d bytes): %v", len(text), err)
		}
		versions[c.Version] = true
		got, err := decodeSVG(c.SVG())
		if err != nil {
			t.Fatalf("decode %d bytes (version %d, mask %d): %v", len(text), c.Version, c.Mask, err)
		}
		if got != text {
			t.Errorf("version %d: got %q, want %q", c.Version, got, text)
		}
	}
	for v := 1; v <= 10; v++ {
		if !versions[v] {
			t.Errorf("version %d: got no test text, want one", v)
		}
	}
}

// TestEveryMask round-trips one text per version under each of the eight masks.
func TestEveryMask(t *testing.T) {
	for v := 1; v <= 10; v++ {
		countBits := 8
		if v == 10 {
			countBits = 16
		}
		text := strings.Repeat("trothu ", 40)[:levelM[v].dataCodewords()-3] // fills the version
		for mask := 0; mask < 8; mask++ {
			c := encodeVersion(v, dataCodewords([]byte(text), v, countBits, levelM[v].dataCodewords()*8), mask)
			got, err := decodeSVG(c.SVG())
			if err != nil {
				t.Errorf("version %d mask %d: %v", v, mask, err)
				continue
			}
			if got != text {
				t.Errorf("version %d mask %d: got %q, want %q", v, mask, got, text)
			}
		}
	}
}

func TestEncodeTooLong(t *testing.T) {
	if _, err := Encode(bytes.Repeat([]byte{'x'}, 214)); err != ErrTooLong {
		t.Errorf("got %v, want ErrTooLong", err)
	}
	if _, err := Encode(append(bytes.Repeat([]byte{'x'}, 211), "ú"...)); err != ErrTooLong {
		t.Errorf("213 bytes with UTF-8: got %v, want ErrTooLong (the ECI header takes the room)", err)
	}
}

// TestUTF8IsMarked checks the ECI header: non-ASCII text is declared UTF-8, ASCII is not.
func TestUTF8IsMarked(t *testing.T) {
	if got := fmt.Sprintf("%X", dataCodewords([]byte("ú"), 1, 8, 16*8)[:3]); got != "71A402" {
		t.Errorf("\"ú\": got %s…, want 71A402… (ECI 26, byte mode, 2 bytes)", got)
	}
	if got := fmt.Sprintf("%X", dataCodewords([]byte("u"), 1, 8, 16*8)[:1]); got != "40" {
		t.Errorf("\"u\": got %s…, want 40… (byte mode, no ECI)", got)
	}
}

// TestMaskChoice checks that the chosen mask has the lowest penalty of the eight.
func TestMaskChoice(t *testing.T) {
	c, err := Encode([]byte("https://trothu.example/join/k3Jd93kdmQ"))
	if err != nil {
		t.Fatal(err)
	}
	m := &matrix{size: c.Size, dark: make([]bool, c.Size*c.Size), fn: make([]bool, c.Size*c.Size)}
	m.functionPatterns(c.Version)
	copy(m.dark, c.modules)
	m.applyMask(c.Mask)
	chosen := -1
	for mask := 0; mask < 8; mask++ {
		m.applyMask(mask)
		m.formatBits(mask)
		p := m.penalty()
		if mask == c.Mask {
			chosen = p
		}
		m.applyMask(mask)
		if chosen >= 0 && p < chosen {
			t.Errorf("mask %d: got penalty %d below chosen mask %d's %d", mask, p, c.Mask, chosen)
		}
	}
}

var svgRun = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-\d+z`)

// decodeSVG reads a symbol back from its SVG: modules from the path, format information (both
// copies), version information, unmasking, the zigzag, de-interleaving, Reed–Solomon
// syndromes and the byte-mode segment. It shares no code with the encoder but gfExp.
func decodeSVG(svg string) (string, error) {
	var full int
	if _, err := fmt.Sscanf(svg[strings.Index(svg, "viewBox"):], `viewBox="0 0 %d`, &full); err != nil {
		return "", err
	}
	n := full - 8
	if (n-17)%4 != 0 || n < 21 || n > 57 {
		return "", fmt.Errorf("size %d", n)
	}
	v := (n - 17) / 4
	dark := make([][]bool, n)
	for i := range dark {
		dark[i] = make([]bool, n)
	}
	for _, m := range svgRun.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		for i := 0; i < w; i++ {
			dark[y-4][x-4+i] = true
		}
	}
	// Finder patterns: the 7×7 rings at three corners.
	for _, o := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
		for dy := 0; dy < 7; dy++ {
			for dx := 0; dx < 7; dx++ {
				ring := max(abs(dx-3), abs(dy-3))
				if dark[o[1]+dy][o[0]+dx] != (ring != 2) {
					return "", fmt.Errorf("finder at %v broken", o)
				}
			}
		}
	}
	// Format information, first copy around the top-left finder, bit 14 first.
	var f1, f2 int
	coords1 := [][2]int{{0, 8}, {1, 8}, {2, 8}, {3, 8}, {4, 8}, {5, 8}, {7, 8}, {8, 8}, {8, 7}, {8, 5}, {8, 4}, {8, 3}, {8, 2}, {8, 1}, {8, 0}}
	for _, c := range coords1 { // (x, y): bits 14..0
		f1 = f1<<1 | b2i(dark[c[1]][c[0]])
	}
	for i := 0; i < 7; i++ { // bits 14..8 down column 8 at the bottom left
		f2 = f2<<1 | b2i(dark[n-1-i][8])
	}
	for i := 0; i < 8; i++ { // bits 7..0 along row 8 at the top right
		f2 = f2<<1 | b2i(dark[8][n-8+i])
	}
	if f1 != f2 {
		return "", fmt.Errorf("format copies differ: %015b %015b", f1, f2)
	}
	f := f1 ^ 0x5412
	if f>>13 != 0 {
		return "", fmt.Errorf("level %02b, want M (00)", f>>13)
	}
	if !bchValid(f, 0x537, 10) {
		return "", fmt.Errorf("format %015b fails BCH", f)
	}
	mask := f >> 10 & 7
	if !dark[n-8][8] {
		return "", fmt.Errorf("dark module is light")
	}
	fn, align := functionMap(n, v)
	for i := 8; i < n-8; i++ {
		if dark[6][i] != (i%2 == 0) || dark[i][6] != (i%2 == 0) {
			return "", fmt.Errorf("timing pattern broken at %d", i)
		}
	}
	for _, c := range align {
		for dy := -2; dy <= 2; dy++ {
			for dx := -2; dx <= 2; dx++ {
				if dark[c[1]+dy][c[0]+dx] != (max(abs(dx), abs(dy)) != 1) {
					return "", fmt.Errorf("alignment pattern at %v broken", c)
				}
			}
		}
	}
	if v >= 7 {
		ver := 0
		for i := 17; i >= 0; i-- {
			ver = ver<<1 | b2i(dark[i/3][n-11+i%3])
		}
		if ver>>12 != v || !bchValid(ver, 0x1F25, 12) {
			return "", fmt.Errorf("version information %018b, want version %d", ver, v)
		}
	}
	// Zigzag, unmasking with the formula written out independently.
	flip := []func(x, y int) bool{
		func(x, y int) bool { return (y+x)%2 == 0 },
		func(x, y int) bool { return y%2 == 0 },
		func(x, y int) bool { return x%3 == 0 },
		func(x, y int) bool { return (y+x)%3 == 0 },
		func(x, y int) bool { return (y/2+x/3)%2 == 0 },
		func(x, y int) bool { return (y*x)%2+(y*x)%3 == 0 },
		func(x, y int) bool { return ((y*x)%2+(y*x)%3)%2 == 0 },
		func(x, y int) bool { return ((y+x)%2+(y*x)%3)%2 == 0 },
	}[mask]
	var bits []bool
	up := true
	for col := n - 1; col > 0; col -= 2 {
		if col == 6 {
			col--
		}
		for k := 0; k < n; k++ {
			y := k
			if up {
				y = n - 1 - k
			}
			for _, x := range []int{col, col - 1} {
				if !fn[y][x] {
					bits = append(bits, dark[y][x] != flip(x, y))
				}
			}
		}
		up = !up
	}
	raw := make([]byte, len(bits)/8)
	for i := range raw {
		for j := 0; j < 8; j++ {
			raw[i] = raw[i]<<1 | byte(b2i(bits[i*8+j]))
		}
	}
	// Level M blocks: {ec per block, short blocks, short data length, long blocks}.
	spec := [][4]int{1: {10, 1, 16, 0}, {16, 1, 28, 0}, {26, 1, 44, 0}, {18, 2, 32, 0}, {24, 2, 43, 0},
		{16, 4, 27, 0}, {18, 4, 31, 0}, {22, 2, 38, 2}, {22, 3, 36, 2}, {26, 4, 43, 1}}[v]
	nb := spec[1] + spec[3]
	blocks := make([][]byte, nb)
	pos := 0
	for i := 0; i <= spec[2]; i++ {
		for b := 0; b < nb; b++ {
			if i < spec[2] || b >= spec[1] {
				blocks[b] = append(blocks[b], raw[pos])
				pos++
			}
		}
	}
	for i := 0; i < spec[0]; i++ {
		for b := 0; b < nb; b++ {
			blocks[b] = append(blocks[b], raw[pos])
			pos++
		}
	}
	var data []byte
	for b, blk := range blocks {
		for i := 0; i < spec[0]; i++ { // syndrome S_i = c(α^i) must be zero
			var s byte
			for _, c := range blk {
				s = gfMulSlow(s, gfExp[i]) ^ c
			}
			if s != 0 {
				return "", fmt.Errorf("block %d: syndrome %d is %d", b, i, s)
			}
		}
		data = append(data, blk[:len(blk)-spec[0]]...)
	}
	br := &bitReader{data: data}
	mode := br.read(4)
	if mode == 0b0111 { // ECI: only UTF-8 (26) is expected
		if eci := br.read(8); eci != 26 {
			return "", fmt.Errorf("ECI %d, want 26 (UTF-8)", eci)
		}
		mode = br.read(4)
	}
	if mode != 0b0100 {
		return "", fmt.Errorf("mode %04b, want byte mode", mode)
	}
	count := br.read(8)
	if v >= 10 {
		count = count<<8 | br.read(8)
	}
	out := make([]byte, count)
	for i := range out {
		out[i] = byte(br.read(8))
	}
	return string(out), nil
}

// gfMulSlow multiplies in GF(256) by shift-and-add, independent of the encoder's tables.
func gfMulSlow(a, b byte) byte {
	var p int
	x, y := int(a), int(b)
	for y > 0 {
		if y&1 == 1 {
			p ^= x
		}
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
		y >>= 1
	}
	return byte(p)
}

func bchValid(word, gen, ecBits int) bool {
	for i := 30; i >= ecBits; i-- {
		if word>>i&1 == 1 {
			word ^= gen << (i - ecBits)
		}
	}
	return word == 0
}

// functionMap marks finders with separators and format areas, timing, alignment patterns and
// version areas.
func functionMap(n, v int) (fn [][]bool, align [][2]int) {
	fn = make([][]bool, n)
	for i := range fn {
		fn[i] = make([]bool, n)
	}
	mark := func(x0, y0, w, h int) {
		for y := y0; y < y0+h; y++ {
			for x := x0; x < x0+w; x++ {
				fn[y][x] = true
			}
		}
	}
	mark(0, 0, 9, 9)
	mark(n-8, 0, 8, 9)
	mark(0, n-8, 9, 8)
	mark(6, 0, 1, n)
	mark(0, 6, n, 1)
	if v >= 2 {
		// Centres: 6, then k more evenly spaced up to n-7 (ISO/IEC 18004 annex E for v ≤ 10).
		last, k := n-7, v/7+1
		centres := []int{6}
		for i := k - 1; i >= 0; i-- {
			centres = append(centres, last-i*(last-6)/k)
		}
		for _, cx := range centres {
			for _, cy := range centres {
				if (cx == 6 && cy == 6) || (cx == 6 && cy == last) || (cx == last && cy == 6) {
					continue
				}
				mark(cx-2, cy-2, 5, 5)
				align = append(align, [2]int{cx, cy})
			}
		}
	}
	if v >= 7 {
		mark(n-11, 0, 3, 6)
		mark(0, n-11, 6, 3)
	}
	return fn, align
}

type bitReader struct {
	data []byte
	pos  int
}

func (r *bitReader) read(n int) int {
	v := 0
	for i := 0; i < n; i++ {
		b := 0
		if r.pos/8 < len(r.data) {
			b = int(r.data[r.pos/8] >> (7 - r.pos%8) & 1)
		}
		v = v<<1 | b
		r.pos++
	}
	return v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
