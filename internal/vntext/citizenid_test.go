package vntext

import (
	"errors"
	"testing"
)

func TestNormalizeCitizenID(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"001099012345", "001099012345", nil}, // Hà Nội, male, 1999
		{"079301012345", "079301012345", nil}, // TP.HCM, female, 2001
		{"096205000001", "096205000001", nil}, // Cà Mau
		{"038 190 012 345", "038190012345", nil},
		{" 001099012345\t", "001099012345", nil},
		{"001999012345", "001999012345", nil}, // any century digit is accepted
		{"", "", ErrCitizenIDLength},
		{"00109901234", "", ErrCitizenIDLength},   // 11 digits
		{"0010990123456", "", ErrCitizenIDLength}, // 13 digits
		{"00109901234a", "", ErrCitizenIDLength},
		{"001-099-012345", "", ErrCitizenIDLength},
		{"000099012345", "", ErrCitizenIDProvince},
		{"097099012345", "", ErrCitizenIDProvince},
		{"100099012345", "", ErrCitizenIDProvince},
		{"999099012345", "", ErrCitizenIDProvince},
	}
	for _, tt := range tests {
		got, err := NormalizeCitizenID(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("NormalizeCitizenID(%q): got %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
		if err := ValidCitizenID(tt.in); !errors.Is(err, tt.err) {
			t.Errorf("ValidCitizenID(%q): got %v, want %v", tt.in, err, tt.err)
		}
	}
}

func TestCitizenIDMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{ErrCitizenIDLength, "số CCCD phải gồm 12 chữ số"},
		{ErrCitizenIDProvince, "mã tỉnh trong số CCCD không hợp lệ"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error(): got %q, want %q", got, tt.want)
		}
	}
}

func TestMaskCitizenID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"001099011234", "********1234"},
		{"001 099 011 234", "********1234"},
		{"12345", "*2345"},
		{"1234", "****"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskCitizenID(tt.in); got != tt.want {
			t.Errorf("MaskCitizenID(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
