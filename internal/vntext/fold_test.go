package vntext

import (
	"slices"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Nguyễn Văn Học", "nguyen van hoc"},
		{"Đồng", "dong"},
		{"ĐẶNG THUÝ KIỀU", "dang thuy kieu"},
		{"  HOÀ  Bình ", "hoa binh"},
		{"thuỷ", "thuy"},
		{"thủy", "thuy"},
		{"Trần Thị Thuỷ", "tran thi thuy"},
		{"Lê Hoà", "le hoa"},
		{"Lê Hòa", "le hoa"},
		{"Phạm Quỳnh", "pham quynh"},
		{"Huỳnh", "huynh"},
		{"Khuê", "khue"},
		{"Nguyệt", "nguyet"},
		{"Quốc", "quoc"},
		{"Giang", "giang"},
		{"gìn giữ", "gin giu"},
		{"già", "gia"},
		{"Hoàng", "hoang"},
		{"Thuyền", "thuyen"},
		{"Khoá", "khoa"},
		{"Hoè", "hoe"},
		{"người ƯỚC", "nguoi uoc"},
		{"ăn ấm ở", "an am o"},
		{"Bà Rịa - Vũng Tàu", "ba ria - vung tau"},
		{"\tTP.\u00a0Hồ Chí Minh\n", "tp. ho chi minh"},
		{"", ""},
		{"a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q): got %q, want %q", tt.in, got, tt.want)
		}
		nfd := norm.NFD.String(tt.in)
		if got := Fold(nfd); got != tt.want {
			t.Errorf("Fold(NFD %+q): got %q, want %q", nfd, got, tt.want)
		}
	}
}

func TestSearchTerms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Nguyễn Văn Học", []string{"nguyen", "van", "hoc"}},
		{"  hoà HÒA hoa ", []string{"hoa"}},
		{"Thủy, thuỷ; THUY", []string{"thuy"}},
		{"50% phường_1", []string{"50", "phuong", "1"}},
		{"Lê-Thị", []string{"le", "thi"}},
		{"", nil},
		{" ,.;- ", nil},
	}
	for _, tt := range tests {
		if got := SearchTerms(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("SearchTerms(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFoldedContains(t *testing.T) {
	hay := Fold("Nguyễn Thị Thuỷ, phường Hoà Bình")
	tests := []struct {
		query string
		want  bool
	}{
		{"thủy", true},
		{"THUY hoa", true},
		{"Hòa Bình", true},
		{"nguyen binh", true},
		{"nguyen an", false},
		{"Đông", false},
		{"", true},
	}
	for _, tt := range tests {
		if got := FoldedContains(hay, tt.query); got != tt.want {
			t.Errorf("FoldedContains(%q, %q): got %v, want %v", hay, tt.query, got, tt.want)
		}
	}
}

// The fast path agrees with Unicode's steps for every rune it could take
// (and past them), alone and between letters and spaces, and for
// Vietnamese precomposed and decomposed. Above foldTableSize every rune
// takes the slow path.
func TestFoldFastAgreesWithSlow(t *testing.T) {
	fast := 0
	for r := rune(0); r < 2*foldTableSize; r++ {
		for _, s := range []string{string(r), "A" + string(r) + "b", "  " + string(r) + " Đ\u0301 ", "ệ" + string(r) + string(r)} {
			if got, want := Fold(s), foldSlow(s); got != want {
				t.Fatalf("Fold(%+q): got %+q, want %+q", s, got, want)
			}
		}
		if _, ok := foldFast(string(r)); ok {
			fast++
		}
	}
	for _, s := range []string{
		"Nguyễn Thị Thuỷ Tiên, số 12 đường Hoà Bình", "ĐỒNG KHỞI\tquận 1\n", "người  Huỳnh ",
		"a\xffb", "Hòa\u00a0Bình", "ǅ", "straße", "Kelvin \u212a",
		"Góp ý – kiến nghị khác", "“Đèn” hỏng…", "a\u2013\u0301b", "\u2014\u00a0x\u2028",
	} {
		for _, v := range []string{s, norm.NFD.String(s), norm.NFC.String(s)} {
			if got, want := Fold(v), foldSlow(v); got != want {
				t.Errorf("Fold(%+q): got %+q, want %+q", v, got, want)
			}
		}
	}
	// Every Vietnamese letter, upper and lower case, takes the fast path.
	for _, r := range "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ" {
		for _, c := range []rune{r, unicode.ToUpper(r)} {
			if _, ok := foldFast(string(c)); !ok {
				t.Errorf("%q: not on the fast path", c)
			}
		}
	}
	// So does the punctuation phones type into Vietnamese text.
	for _, r := range "–—‘’“”…•" {
		if _, ok := foldFast("Góp ý " + string(r) + " khác"); !ok {
			t.Errorf("%q: not on the fast path", r)
		}
	}
	if fast < 128+134*2 {
		t.Errorf("only %d runes on the fast path", fast)
	}
}

// BenchmarkFold measures folding a typical full name with an address.
// Run: go test -run=^$ -bench=Fold ./internal/vntext/
func BenchmarkFold(b *testing.B) {
	s := "Nguyễn Thị Thuỷ Tiên, số 12 đường Hoà Bình, phường Tân Định, TP. Hồ Chí Minh"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Fold(s)
	}
}

// BenchmarkFoldUnicodeSteps is the same input through the slow path
// (foldSlow: ToLower, NFD, marks dropped, NFC), which Fold takes for text
// outside Latin and Vietnamese.
func BenchmarkFoldUnicodeSteps(b *testing.B) {
	s := "Nguyễn Thị Thuỷ Tiên, số 12 đường Hoà Bình, phường Tân Định, TP. Hồ Chí Minh"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		foldSlow(s)
	}
}

// BenchmarkNormalize is the same input through Normalize, for comparison.
func BenchmarkNormalize(b *testing.B) {
	s := "Nguyễn Thị Thủy Tiên, số 12 đường Hòa Bình, phường Tân Định, TP. Hồ Chí Minh"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Normalize(s)
	}
}

// BenchmarkFoldRequest folds the text a request is searched by: its
// description, address and type name ("Góp ý – kiến nghị khác", with an
// en dash). Until the dash was in foldTable, every request of that type
// took the Unicode steps (BenchmarkFoldRequestUnicodeSteps).
func BenchmarkFoldRequest(b *testing.B) {
	s := requestText
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Fold(s)
	}
}

func BenchmarkFoldRequestUnicodeSteps(b *testing.B) {
	s := requestText
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		foldSlow(s)
	}
}

const requestText = "Rác thải, cống trước nhà số 14 đường Nguyễn Trãi nhiều ngày nay, đề nghị phường xử lý sớm. 14 Nguyễn Trãi, phường Bến Thành Góp ý – kiến nghị khác"
