package qr

// matrix is a symbol under construction: dark modules and which modules belong to function
// patterns (finders, timing, alignment, format and version information).
type matrix struct {
	size     int
	dark, fn []bool
}

func (m *matrix) set(x, y int, dark bool) {
	m.dark[y*m.size+x] = dark
	m.fn[y*m.size+x] = true
}

func (m *matrix) functionPatterns(v int) {
	for i := 0; i < m.size; i++ {
		m.set(6, i, i%2 == 0)
		m.set(i, 6, i%2 == 0)
	}
	m.finder(3, 3)
	m.finder(m.size-4, 3)
	m.finder(3, m.size-4)
	pos := alignment[v]
	for i, cx := range pos {
		for j, cy := range pos {
			last := len(pos) - 1
			if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) {
				continue // overlaps a finder
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					m.set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	m.formatBits(0) // reserves the format areas; rewritten once the mask is chosen
	if v >= 7 {
		bits := versionBits(v)
		for i := 0; i < 18; i++ {
			a, b := m.size-11+i%3, i/3
			m.set(a, b, bits>>i&1 == 1)
			m.set(b, a, bits>>i&1 == 1)
		}
	}
}

// finder draws a finder pattern centred on (cx, cy) with its light separator.
func (m *matrix) finder(cx, cy int) {
	for dy := -4; dy <= 4; dy++ {
		for dx := -4; dx <= 4; dx++ {
			x, y := cx+dx, cy+dy
			if x < 0 || y < 0 || x >= m.size || y >= m.size {
				continue
			}
			d := max(abs(dx), abs(dy))
			m.set(x, y, d != 2 && d != 4)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// formatInfo returns the 15 format bits for level M (indicator 00) and mask: five data bits,
// ten BCH(15,5) bits with generator 0x537, XORed with 0x5412.
func formatInfo(mask int) int {
	data := 0b00<<3 | mask
	rem := data << 10
	for i := 14; i >= 10; i-- {
		if rem>>i&1 == 1 {
			rem ^= 0x537 << (i - 10)
		}
	}
	return (data<<10 | rem) ^ 0x5412
}

// versionBits returns the 18 version bits: six data bits and twelve BCH(18,6) bits with
// generator 0x1F25.
func versionBits(v int) int {
	rem := v << 12
	for i := 17; i >= 12; i-- {
		if rem>>i&1 == 1 {
			rem ^= 0x1F25 << (i - 12)
		}
	}
	return v<<12 | rem
}

// formatBits writes both copies of the format information; bit 0 is the least significant.
func (m *matrix) formatBits(mask int) {
	bits := formatInfo(mask)
	bit := func(i int) bool { return bits>>i&1 == 1 }
	for i := 0; i <= 5; i++ {
		m.set(8, i, bit(i))
	}
	m.set(8, 7, bit(6))
	m.set(8, 8, bit(7))
	m.set(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		m.set(14-i, 8, bit(i))
	}
	for i := 0; i < 8; i++ {
		m.set(m.size-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		m.set(8, m.size-15+i, bit(i))
	}
	m.set(8, m.size-8, true) // the dark module
}

// placeData fills the non-function modules in the two-column zigzag from the bottom right.
func (m *matrix) placeData(codewords []byte) {
	i := 0
	for right := m.size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		upward := (right+1)&2 == 0
		for vert := 0; vert < m.size; vert++ {
			y := vert
			if upward {
				y = m.size - 1 - vert
			}
			for j := 0; j < 2; j++ {
				x := right - j
				if m.fn[y*m.size+x] {
					continue
				}
				if i < len(codewords)*8 {
					m.dark[y*m.size+x] = codewords[i/8]>>(7-i%8)&1 == 1
				}
				i++
			}
		}
	}
}

// maskBit reports whether mask flips the module at column x, row y (ISO/IEC 18004 table 10).
func maskBit(mask, x, y int) bool {
	switch mask {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (x/3+y/2)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// applyMask flips the data modules selected by mask; applying it twice undoes it.
func (m *matrix) applyMask(mask int) {
	for y := 0; y < m.size; y++ {
		for x := 0; x < m.size; x++ {
			if !m.fn[y*m.size+x] && maskBit(mask, x, y) {
				m.dark[y*m.size+x] = !m.dark[y*m.size+x]
			}
		}
	}
}

// penalty scores the symbol by the four rules of ISO/IEC 18004 7.8.3: runs of five or more,
// 2×2 blocks, finder-like 1:1:3:1:1 patterns beside four light modules, and dark balance.
func (m *matrix) penalty() int {
	n := m.size
	at := func(x, y int) bool { return m.dark[y*n+x] }
	p := 0
	for pass := 0; pass < 2; pass++ {
		get := at
		if pass == 1 {
			get = func(x, y int) bool { return at(y, x) }
		}
		for y := 0; y < n; y++ {
			run := 1
			for x := 1; x <= n; x++ {
				if x < n && get(x, y) == get(x-1, y) {
					run++
					continue
				}
				if run >= 5 {
					p += 3 + run - 5
				}
				run = 1
			}
			for x := 0; x+11 <= n; x++ {
				if finderLike(func(i int) bool { return get(x+i, y) }) {
					p += 40
				}
			}
		}
	}
	dark := 0
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if at(x, y) {
				dark++
			}
			if x+1 < n && y+1 < n && at(x, y) == at(x+1, y) && at(x, y) == at(x, y+1) && at(x, y) == at(x+1, y+1) {
				p += 3
			}
		}
	}
	p += abs(dark*100/(n*n)-50) / 5 * 10
	return p
}

// finderLike reports whether 11 modules read 1011101 0000 or 0000 1011101.
func finderLike(get func(int) bool) bool {
	const a, b = "10111010000", "00001011101"
	matchA, matchB := true, true
	for i := 0; i < 11; i++ {
		d := get(i)
		if d != (a[i] == '1') {
			matchA = false
		}
		if d != (b[i] == '1') {
			matchB = false
		}
	}
	return matchA || matchB
}
