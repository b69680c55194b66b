package vntext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold returns the search key of s: lower case, without any diacritic
// (tone marks and the quality marks of ă â ê ô ơ ư alike), đ as d, white
// space trimmed and collapsed to single spaces. It never fails.
//
// Fold("Nguyễn Văn Học") is "nguyen van hoc" and Fold("thủy") equals
// Fold("thuỷ"). Fold(Normalize(s)) equals Fold(s) for every s, so either the
// raw or the normalised text may be folded.
func Fold(s string) string {
	if f, ok := foldFast(s); ok {
		return f
	}
	return foldSlow(s)
}

// foldSlow is Fold by Unicode's own steps. Tone placement is irrelevant
// once every mark is gone, so it skips that part of Normalize and
// decomposes directly.
func foldSlow(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFD.String(strings.ToLower(s))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsMark(r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == 'đ':
			r = 'd'
		default:
			r = unicode.ToLower(r)
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// SearchTerms splits the search query q into folded words, in order of first
// appearance and without duplicates, for matching against folded columns.
// Words are runs of letters and digits, so a term never contains a LIKE
// wildcard (% or _) or an escape character. It returns nil when q holds no
// word.
func SearchTerms(q string) []string {
	words := strings.FieldsFunc(Fold(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var terms []string
	seen := make(map[string]bool, len(words))
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			terms = append(terms, w)
		}
	}
	return terms
}

// FoldedContains reports whether every search term of query (see
// SearchTerms) occurs in haystackFolded, which must already be the output of
// Fold. A query without any term matches everything.
func FoldedContains(haystackFolded, query string) bool {
	for _, t := range SearchTerms(query) {
		if !strings.Contains(haystackFolded, t) {
			return false
		}
	}
	return true
}

// foldTable maps a rune below foldTableSize to what foldSlow makes of it
// alone, when that is one ASCII byte (Vietnamese letters: "ệ" → 'e', "Đ" →
// 'd'), nothing (a combining mark: foldDrop) or the rune itself (the
// dashes, quotation marks and ellipsis of General Punctuation, which
// phones type into Vietnamese text and one of the seeded service types
// carries in its name: foldKeep); 0 means "not that simple". Built from
// foldSlow itself, so the fast path cannot disagree with it.
const (
	foldTableSize = 0x2070 // Latin, combining marks, Latin Extended Additional, General Punctuation
	foldDrop      = 0xFF
	foldKeep      = 0xFE
)

var foldTable = func() (t [foldTableSize]byte) {
	for r := rune(0x80); r < foldTableSize; r++ {
		if !utf8.ValidRune(r) || unicode.IsSpace(r) {
			continue
		}
		switch f := foldSlow(string(r)); {
		case f == "" && unicode.IsMark(r):
			t[r] = foldDrop
		case len(f) == 1 && f[0] > ' ' && f[0] < utf8.RuneSelf:
			t[r] = f[0]
		case r >= 0x2000 && f == string(r) && !unicode.IsLetter(r) && !unicode.IsMark(r):
			t[r] = foldKeep
		}
	}
	return t
}()

// foldFast is Fold for text of ASCII and the runes foldTable knows — all
// Vietnamese, precomposed or not — in one pass without the Unicode
// normalisation tables (23× faster on a Vietnamese name and address:
// BenchmarkFold against BenchmarkFoldUnicodeSteps). It reports
// false, having done nothing useful, for any other text.
func foldFast(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c >= '\t' && c <= '\r':
				space = b.Len() > 0
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r >= foldTableSize || foldTable[r] == 0 {
				return "", false // also r == RuneError: invalid UTF-8
			}
			if c = foldTable[r]; c == foldDrop {
				i += n
				continue
			} else if c == foldKeep {
				if space {
					b.WriteByte(' ')
					space = false
				}
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
			i += n
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}
