package vntext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The five Vietnamese tone marks, as combining characters. The level tone
// (thanh ngang) has no mark.
const (
	toneGrave = '\u0300' // huyền
	toneAcute = '\u0301' // sắc
	toneTilde = '\u0303' // ngã
	toneHook  = '\u0309' // hỏi
	toneDot   = '\u0323' // nặng
)

// The vowel-quality marks. They change the vowel, not the tone, and never move.
const (
	markCircumflex = '\u0302' // â ê ô
	markBreve      = '\u0306' // ă
	markHorn       = '\u031B' // ơ ư
)

func isTone(r rune) bool {
	switch r {
	case toneGrave, toneAcute, toneTilde, toneHook, toneDot:
		return true
	}
	return false
}

// letter is one letter of a syllable split into its parts.
type letter struct {
	base    rune // lower-case base letter, without marks
	upper   bool
	quality rune // markCircumflex, markBreve, markHorn or 0
	tone    rune // one of the tone marks or 0
}

// vowelQualities lists, for each base letter allowed in a Vietnamese
// syllable, the letter it becomes with each quality mark it may carry.
var vowelQualities = map[rune]map[rune]rune{
	'a': {0: 'a', markBreve: 'ă', markCircumflex: 'â'},
	'e': {0: 'e', markCircumflex: 'ê'},
	'i': {0: 'i'},
	'o': {0: 'o', markCircumflex: 'ô', markHorn: 'ơ'},
	'u': {0: 'u', markHorn: 'ư'},
	'y': {0: 'y'},
}

const consonants = "bcdđghklmnpqrstvx"

var validInitials = setOf("", "b", "c", "ch", "d", "đ", "g", "gh", "h", "k", "kh",
	"l", "m", "n", "ng", "ngh", "nh", "p", "ph", "r", "s", "t", "th", "tr", "v", "x")

var validFinals = setOf("", "c", "ch", "m", "n", "ng", "nh", "p", "t")

// validNuclei are the vowel groups (main vowel with its glides) that occur
// in Vietnamese syllables once qu and gi are taken as initials.
var validNuclei = setOf(
	"a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y",
	"ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu",
	"oa", "oă", "oe", "oi", "oo", "ôi", "ơi", "ua", "uâ", "uê", "ui",
	"uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê",
	"iêu", "oai", "oay", "oeo", "uây", "uôi", "uya", "uyê", "uyu",
	"ươi", "ươu", "yêu",
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// placeTone returns the syllable word (NFC) with its tone mark on the
// canonical vowel, or word itself when it is not a well-formed Vietnamese
// syllable with exactly one tone mark.
func placeTone(word string) string {
	if isASCII(word) {
		return word
	}
	letters, ok := splitLetters(word)
	if !ok {
		return word
	}
	toned := -1
	for i, l := range letters {
		if l.tone == 0 {
			continue
		}
		if toned >= 0 {
			return word // two tone marks: nothing sensible to do
		}
		toned = i
	}
	if toned < 0 {
		return word
	}
	plain := make([]rune, len(letters))
	for i, l := range letters {
		plain[i] = l.plain()
	}
	if !isVowel(plain[toned]) {
		return word
	}
	pos, ok := tonePosition(plain)
	if !ok || pos == toned {
		return word
	}
	letters[pos].tone, letters[toned].tone = letters[toned].tone, 0

	var b strings.Builder
	for _, l := range letters {
		base := l.base
		if l.upper {
			base = unicode.ToUpper(base)
		}
		b.WriteRune(base)
		if l.quality != 0 {
			b.WriteRune(l.quality)
		}
		if l.tone != 0 {
			b.WriteRune(l.tone)
		}
	}
	return norm.NFC.String(b.String())
}

// splitLetters decomposes word into letters; ok is false when word holds
// anything but the Vietnamese alphabet and its marks.
func splitLetters(word string) (letters []letter, ok bool) {
	for _, r := range norm.NFD.String(word) {
		switch {
		case isTone(r):
			if len(letters) == 0 || letters[len(letters)-1].tone != 0 {
				return nil, false
			}
			letters[len(letters)-1].tone = r
		case r == markCircumflex || r == markBreve || r == markHorn:
			if len(letters) == 0 {
				return nil, false
			}
			l := &letters[len(letters)-1]
			if l.quality != 0 || vowelQualities[l.base][r] == 0 {
				return nil, false
			}
			l.quality = r
		default:
			lower := unicode.ToLower(r)
			if r >= utf8.RuneSelf && lower != 'đ' {
				return nil, false // e.g. the Kelvin sign, which lowers to k
			}
			if vowelQualities[lower] == nil && !strings.ContainsRune(consonants, lower) {
				return nil, false
			}
			letters = append(letters, letter{base: lower, upper: lower != r})
		}
	}
	return letters, true
}

// plain returns the lower-case letter with its quality mark and without its
// tone: 'ơ' for "Ở".
func (l letter) plain() rune {
	if q, ok := vowelQualities[l.base]; ok {
		return q[l.quality]
	}
	return l.base
}

func isVowel(r rune) bool {
	return strings.ContainsRune("aăâeêioôơuưy", r)
}

func hasQuality(r rune) bool {
	return strings.ContainsRune("ăâêôơư", r)
}

// tonePosition returns the index in the syllable s (lower case, no tone) of
// the letter that carries the tone in the new-style placement documented on
// Normalize; ok is false when s is not a well-formed syllable.
func tonePosition(s []rune) (pos int, ok bool) {
	v := 0
	for v < len(s) && !isVowel(s[v]) {
		v++
	}
	if v == len(s) {
		return 0, false
	}
	initial := string(s[:v])
	nextIsVowel := v+1 < len(s) && isVowel(s[v+1])
	switch {
	case initial == "q" && s[v] == 'u' && nextIsVowel:
		v++ // qu
	case initial == "g" && s[v] == 'i' && nextIsVowel:
		v++ // gi
	case !validInitials[initial]:
		return 0, false
	}
	end := v
	for end < len(s) && isVowel(s[end]) {
		end++
	}
	nucleus := string(s[v:end])
	final := string(s[end:])
	if !validNuclei[nucleus] || !validFinals[final] {
		return 0, false
	}

	n := s[v:end]
	for i := len(n) - 1; i >= 0; i-- {
		if hasQuality(n[i]) {
			return v + i, true
		}
	}
	switch {
	case final != "":
		return end - 1, true
	case len(n) == 1:
		return v, true
	case len(n) == 2:
		if nucleus == "oa" || nucleus == "oe" || nucleus == "uy" {
			return v + 1, true
		}
		return v, true
	default:
		return v + 1, true
	}
}
