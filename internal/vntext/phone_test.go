package vntext

import (
	"errors"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"0912345678", "+84912345678", nil},
		{"+84912345678", "+84912345678", nil},
		{"84912345678", "+84912345678", nil},
		{"0084912345678", "+84912345678", nil},
		{"0912 345 678", "+84912345678", nil},
		{"091-234-5678", "+84912345678", nil},
		{"091.234.5678", "+84912345678", nil},
		{"(+84) 912 345 678", "+84912345678", nil},
		{"+84 0912 345 678", "+84912345678", nil},
		{" 0912345678\n", "+84912345678", nil},
		{"0321234567", "+84321234567", nil},
		{"0561234567", "+84561234567", nil},
		{"0701234567", "+84701234567", nil},
		{"0861234567", "+84861234567", nil},
		{"0849123456", "+84849123456", nil},
		{"", "", ErrPhone},
		{"091234567", "", ErrPhone},     // nine digits
		{"09123456789", "", ErrPhone},   // eleven digits
		{"912345678", "", ErrPhone},     // no trunk zero
		{"0212345678", "", ErrPhone},    // 02x is a landline
		{"0112345678", "", ErrPhone},    // 01x no longer exists
		{"0612345678", "", ErrPhone},    // 06x is not mobile
		{"+85512345678", "", ErrPhone},  // Cambodia
		{"+8491234567", "", ErrPhone},   // short
		{"0912345678+", "", ErrPhone},   // plus at the end
		{"++84912345678", "", ErrPhone}, // two pluses
		{"0912a345678", "", ErrPhone},   // a letter
		{"０９１２３４５６７８", "", ErrPhone},    // full-width digits
		{"09123456781234567890", "", ErrPhone},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("NormalizePhone(%q): got %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestErrPhoneMessage(t *testing.T) {
	if got, want := ErrPhone.Error(), "số điện thoại không hợp lệ"; got != want {
		t.Errorf("ErrPhone.Error(): got %q, want %q", got, want)
	}
}

func TestLocalPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+84912345678", "0912345678"},
		{"0912 345 678", "0912345678"},
		{"(+84) 321 234 567", "0321234567"},
		{"not a phone", "not a phone"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := LocalPhone(tt.in); got != tt.want {
			t.Errorf("LocalPhone(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+84912345678", "091****678"},
		{"0912345678", "091****678"},
		{"091-234-5678", "091****678"},
		{"12345", "*****"},
		{" số lạ ", "*****"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
