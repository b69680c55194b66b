// Package vntext normalises, folds and validates Vietnamese text: names,
// addresses, phone numbers and citizen ID numbers as people type them.
//
// The package is a leaf: it imports only the standard library and
// golang.org/x/text. Its errors are plain values with Vietnamese messages;
// the application's error type wraps them.
package vntext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NFC returns s in Unicode Normalization Form C. It never fails; invalid
// UTF-8 is passed through unchanged.
func NFC(s string) string {
	return norm.NFC.String(s)
}

// Normalize returns s in the canonical form used for storage and
// comparison. It never fails and always returns valid UTF-8 in NFC.
//
// It replaces invalid UTF-8 with U+FFFD, applies NFC, trims, collapses every
// internal run of white space to one ASCII space, and moves each Vietnamese
// tone mark to its canonical vowel, so that spellings which differ only in
// tone-mark placement compare equal: "hòa" and "hoà" both become "hoà",
// "thủy" and "thuỷ" both become "thuỷ".
//
// The canonical placement is the "new style" (kiểu mới), the one used by the
// 2025 administrative unit names ("Thanh Hoá", "Khánh Hoà"):
//
//   - a vowel carrying a quality mark (ă â ê ô ơ ư) takes the tone; in ươ it is ơ;
//   - otherwise, in a syllable closed by a final consonant, the last vowel
//     takes it (hoàng, toán, huỳnh);
//   - otherwise, in an open syllable, the second vowel of oa, oe and uy takes
//     it (hoà, khoẻ, thuỷ), the first vowel of any other pair (mùa, kìa, tài)
//     and the middle vowel of a triple (ngoài, khuỷu).
//
// The u of qu and the i of gi (before another vowel) belong to the initial
// consonant, so "qúy" becomes "quý" and "gìa" becomes "già", while "gìn"
// keeps its tone on the i. Letter case is preserved. A run of letters that
// is not a well-formed Vietnamese syllable (a foreign word, a syllable with
// two tone marks, a tone on a consonant) is left as it is.
func Normalize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFC.String(s)
	s = strings.Join(strings.Fields(s), " ")
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		// A syllable is a letter followed by letters and combining marks.
		j := i + size
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsLetter(r) && !unicode.IsMark(r) {
				break
			}
			j += size
		}
		b.WriteString(placeTone(s[i:j]))
		i = j
	}
	return norm.NFC.String(b.String())
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
