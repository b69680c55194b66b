package vntext

import (
	"strings"
	"unicode"

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
	// Tone placement is irrelevant once every mark is gone, so Fold skips
	// that part of Normalize and decomposes directly.
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
