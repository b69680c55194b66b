package vntext

import (
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// Tone moves in open oa, oe, uy: both placements give the new style.
		{"hòa", "hoà"},
		{"hoà", "hoà"},
		{"Lê Hòa", "Lê Hoà"},
		{"Lê Hoà", "Lê Hoà"},
		{"thủy", "thuỷ"},
		{"thuỷ", "thuỷ"},
		{"Trần Thị Thủy", "Trần Thị Thuỷ"},
		{"Khỏe", "Khoẻ"},
		{"Khoẻ", "Khoẻ"},
		{"Khóa", "Khoá"},
		{"Khoá", "Khoá"},
		{"Hòe", "Hoè"},
		{"Hoè", "Hoè"},
		{"Đặng Thúy Kiều", "Đặng Thuý Kiều"},
		{"Đặng Thuý Kiều", "Đặng Thuý Kiều"},
		{"Thanh Hóa", "Thanh Hoá"},
		{"HÒA", "HOÀ"},
		{"hÒa", "hOà"}, // case belongs to the letter, not to the tone
		{"lũy", "luỹ"},
		{"họa", "hoạ"},
		// qu and gi are initials: the tone belongs to the next vowel.
		{"quý", "quý"},
		{"qúy", "quý"},
		{"Qúy", "Quý"},
		{"quà", "quà"},
		{"qùa", "quà"},
		{"già", "già"},
		{"gìa", "già"},
		{"gìn", "gìn"},
		{"gì", "gì"},
		{"Giang", "Giang"},
		{"giữ", "giữ"},
		{"giường", "giường"},
		// A final consonant puts the tone on the last vowel.
		{"Hoàng", "Hoàng"},
		{"Hòang", "Hoàng"},
		{"toán", "toán"},
		{"hoạch", "hoạch"},
		{"Huỳnh", "Huỳnh"},
		{"Hùynh", "Huỳnh"},
		{"Phạm Quỳnh", "Phạm Quỳnh"},
		{"huýt", "huýt"},
		// A vowel with a quality mark takes the tone.
		{"Nguyễn", "Nguyễn"},
		{"Nguyễn Văn Học", "Nguyễn Văn Học"},
		{"người", "người"},
		{"thuyền", "thuyền"},
		{"Thuyền", "Thuyền"},
		{"quốc", "quốc"},
		{"Quốc", "Quốc"},
		{"Khuê", "Khuê"},
		{"Nguyệt", "Nguyệt"},
		{"rượu", "rượu"},
		{"thuở", "thuở"},
		{"cứu", "cứu"},
		{"mưa", "mưa"},
		{"cửa", "cửa"},
		{"tuổi", "tuổi"},
		{"khuấy", "khuấy"},
		// Other open pairs keep the tone on the first vowel, triples on the middle.
		{"mùa", "mùa"},
		{"muà", "mùa"},
		{"kìa", "kìa"},
		{"tài", "tài"},
		{"taì", "tài"},
		{"ngoài", "ngoài"},
		{"ngòai", "ngoài"},
		{"xoáy", "xoáy"},
		{"khuỷu", "khuỷu"},
		{"ngoẹo", "ngoẹo"},
		// Spacing.
		{"  HOÀ  Bình ", "HOÀ Bình"},
		{"Lê\t\tThị\n Hòa", "Lê Thị Hoà"},
		{"\u00a0Hòa\u2003Bình\u00a0", "Hoà Bình"},
		{"", ""},
		{"   ", ""},
		// Punctuation splits syllables; case is kept.
		{"Hòa-Bình, Thủy!", "Hoà-Bình, Thuỷ!"},
		{"(hòa)", "(hoà)"},
		{"HòaBình", "HòaBình"},
		// Not Vietnamese syllables: left alone.
		{"café", "café"},
		{"José", "José"},
		{"Chloé", "Chloé"},
		{"naïve", "naïve"},
		{"hóà", "hóà"},
		{"ḿ", "ḿ"},
		{"東京", "東京"},
		{"hello world", "hello world"},
		// Invalid UTF-8 becomes U+FFFD.
		{"a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q): got %q, want %q", tt.in, got, tt.want)
		}
		nfd := norm.NFD.String(tt.in)
		if got := Normalize(nfd); got != tt.want {
			t.Errorf("Normalize(NFD %+q): got %q, want %q", nfd, got, tt.want)
		}
	}
}

func TestNormalizeEquivalentSpellings(t *testing.T) {
	pairs := [][2]string{
		{"hoà", "hòa"},
		{"thuỷ", "thủy"},
		{"Khoẻ", "Khỏe"},
		{"quý", "qúy"},
		{"uý", "úy"},
		{"Thuý Kiều", "Thúy Kiều"},
		{"Hoè", "Hòe"},
		{"khoá", "khóa"},
		{"Hoà Bình", norm.NFD.String("Hòa Bình")},
	}
	for _, p := range pairs {
		a, b := Normalize(p[0]), Normalize(p[1])
		if a != b {
			t.Errorf("Normalize(%q) = %q and Normalize(%q) = %q: got different, want equal", p[0], a, p[1], b)
		}
	}
}

func TestNormalizeOutputIsNFC(t *testing.T) {
	for _, in := range []string{"Hòa", "Nguyễn", norm.NFD.String("Đặng Thúy Kiều"), "e\u0323\u0302"} {
		got := Normalize(in)
		if !norm.NFC.IsNormalString(got) {
			t.Errorf("Normalize(%+q): got %+q, want NFC", in, got)
		}
	}
}

func TestNFC(t *testing.T) {
	in := norm.NFD.String("Nguyễn")
	if got, want := NFC(in), "Nguy\u1ec5n"; got != want {
		t.Errorf("NFC(%+q): got %+q, want %+q", in, got, want)
	}
}

// TestNormalizeAnyPlacement puts each tone on each vowel of many syllables
// and checks that every placement normalises to the same string, with the
// tone on a vowel and the letters unchanged.
func TestNormalizeAnyPlacement(t *testing.T) {
	initials := []string{"", "h", "ng", "qu", "gi", "Th", "NGH"}
	finals := []string{"", "n", "ng", "ch", "T"}
	tones := []rune{toneGrave, toneAcute, toneTilde, toneHook, toneDot}
	checked := 0
	for nucleus := range validNuclei {
		for _, ini := range initials {
			for _, fin := range finals {
				syllable := []rune(ini + nucleus + fin)
				for _, tone := range tones {
					var want string
					for i, r := range syllable {
						if !isVowel(unicode.ToLower(r)) {
							continue
						}
						in := norm.NFC.String(string(syllable[:i+1]) + string(tone) + string(syllable[i+1:]))
						got := Normalize(in)
						if want == "" {
							want = got
						}
						if got != want {
							t.Errorf("Normalize(%q): got %q, want %q like the other placements", in, got, want)
						}
						if f, w := Fold(got), Fold(string(syllable)); f != w {
							t.Errorf("Fold(Normalize(%q)): got %q, want %q", in, f, w)
						}
						checked++
					}
				}
			}
		}
	}
	if checked < 1000 {
		t.Errorf("checked %d placements, want at least 1000", checked)
	}
}
