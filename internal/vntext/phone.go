package vntext

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrPhone reports a string that is not a Vietnamese mobile phone number.
var ErrPhone = errors.New("số điện thoại không hợp lệ")

// NormalizePhone returns the Vietnamese mobile number s in E.164 form,
// "+84" followed by nine digits, the first of which is 3, 5, 7, 8 or 9.
//
// It accepts the national form "0912345678", the international forms
// "+84912345678", "84912345678" and "0084912345678", a redundant trunk zero
// after the country code ("+84 0912 345 678"), and spaces, dots, hyphens and
// parentheses anywhere ("(+84) 912-345-678"). Anything else, including
// landline numbers, returns ErrPhone.
func NormalizePhone(s string) (string, error) {
	digits := make([]byte, 0, 16)
	plus := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9' && len(digits) < 16:
			digits = append(digits, byte(r))
		case r == '+' && !plus && len(digits) == 0:
			plus = true
		case r == '.' || r == '-' || r == '(' || r == ')' || unicode.IsSpace(r):
			// separators people type
		default:
			return "", ErrPhone
		}
	}
	d := string(digits)
	var national string
	ok := false
	switch {
	case plus:
		national, ok = strings.CutPrefix(d, "84")
	case strings.HasPrefix(d, "0084"):
		national, ok = d[4:], true
	case strings.HasPrefix(d, "84") && len(d) >= 11:
		national, ok = d[2:], true
	case len(d) == 10 && d[0] == '0':
		national, ok = d[1:], true
	}
	if !ok {
		return "", ErrPhone
	}
	if len(national) == 10 && national[0] == '0' {
		national = national[1:] // "+84 0912…": a trunk zero kept by habit
	}
	if len(national) != 9 || !strings.ContainsRune("35789", rune(national[0])) {
		return "", ErrPhone
	}
	return "+84" + national, nil
}

// LocalPhone returns the phone number s in the national form people dial,
// "0912345678". It never fails: when s is not a valid number (see
// NormalizePhone) it returns s unchanged.
func LocalPhone(s string) string {
	e164, err := NormalizePhone(s)
	if err != nil {
		return s
	}
	return "0" + e164[3:]
}

// MaskPhone returns the national form of the phone number s with all but its
// first three and last three digits hidden, "091****678". It never fails:
// when s is not a valid number every character but spaces at either end is
// hidden, so that nothing leaks.
func MaskPhone(s string) string {
	e164, err := NormalizePhone(s)
	if err != nil {
		return strings.Repeat("*", utf8.RuneCountInString(strings.TrimSpace(s)))
	}
	local := "0" + e164[3:]
	return local[:3] + strings.Repeat("*", len(local)-6) + local[len(local)-3:]
}
