package vntext

import (
	"slices"
	"testing"

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

// BenchmarkFold measures folding a typical full name with an address.
// Run: go test -run=^$ -bench=Fold ./internal/vntext/
func BenchmarkFold(b *testing.B) {
	s := "Nguyễn Thị Thuỷ Tiên, số 12 đường Hoà Bình, phường Tân Định, TP. Hồ Chí Minh"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Fold(s)
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
