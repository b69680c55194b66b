package vntext

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var fuzzSeeds = []string{
	"Nguyễn Văn Học", "Trần Thị Thủy", "  HOÀ  Bình ", "qúy", "gìa", "Khỏe",
	"người", "Huỳnh", "café", "a\xffb", "\u0301a", "e\u0323\u0302", "ḿ", "İ",
	"\u212a\u00f2a", "한국", "\u0301 \u0301", "Hòa\u00a0Bình",
}

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
		f.Add(norm.NFD.String(s))
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%+q): got invalid UTF-8 %+q", s, n)
		}
		if !norm.NFC.IsNormalString(n) {
			t.Fatalf("Normalize(%+q): got %+q, want NFC", s, n)
		}
		if nn := Normalize(n); nn != n {
			t.Fatalf("Normalize(Normalize(%+q)): got %+q, want %+q", s, nn, n)
		}
		if a, b := Fold(n), Fold(s); a != b {
			t.Fatalf("Fold(Normalize(%+q)): got %+q, want Fold(s) %+q", s, a, b)
		}
	})
}

func FuzzFold(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if slow := foldSlow(s); got != slow {
			t.Fatalf("Fold(%+q): got %+q, want %+q (Unicode's steps)", s, got, slow)
		}
		if strings.ContainsFunc(got, unicode.IsMark) {
			t.Fatalf("Fold(%+q): got %+q, want no combining marks", s, got)
		}
		if lower := strings.ToLower(got); lower != got {
			t.Fatalf("Fold(%+q): got %+q, want lower case %+q", s, got, lower)
		}
		if again := Fold(got); again != got {
			t.Fatalf("Fold(Fold(%+q)): got %+q, want %+q", s, again, got)
		}
	})
}

var e164 = regexp.MustCompile(`^\+84[35789]\d{8}$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"0912345678", "+84912345678", "84912345678", "(+84) 912 345 678",
		"091-234-5678", "+84 0912 345 678", "0084912345678", "0212345678", "+", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePhone(s)
		if err != nil {
			if got != "" {
				t.Fatalf("NormalizePhone(%q): got %q with error %v, want empty", s, got, err)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("NormalizePhone(%q): got %q, want ^\\+84[35789]\\d{8}$", s, got)
		}
		if again, err := NormalizePhone(got); again != got || err != nil {
			t.Fatalf("NormalizePhone(%q): got %q, %v; want %q, nil", got, again, err, got)
		}
		if again, err := NormalizePhone(LocalPhone(got)); again != got || err != nil {
			t.Fatalf("NormalizePhone(LocalPhone(%q)): got %q, %v; want %q, nil", got, again, err, got)
		}
	})
}
