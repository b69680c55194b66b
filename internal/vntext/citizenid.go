package vntext

import (
	"errors"
	"strings"
	"unicode"
)

// Errors of citizen ID (số căn cước công dân, CCCD) validation.
var (
	// ErrCitizenIDLength reports a citizen ID that is not exactly 12 digits.
	ErrCitizenIDLength = errors.New("số CCCD phải gồm 12 chữ số")
	// ErrCitizenIDProvince reports a citizen ID whose first three digits are
	// not a province code.
	ErrCitizenIDProvince = errors.New("mã tỉnh trong số CCCD không hợp lệ")
)

// NormalizeCitizenID returns the citizen ID s without its white space, after
// checking it with the same rules as ValidCitizenID, whose errors it returns.
func NormalizeCitizenID(s string) (string, error) {
	id := stripSpace(s)
	if len(id) != 12 || strings.ContainsFunc(id, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", ErrCitizenIDLength
	}
	// The first three digits are the code of the province where the birth
	// was registered (Thông tư 07/2016/TT-BCA): the pre-2025 province codes,
	// which run from 001 (Hà Nội) to 096 (Cà Mau).
	province := int(id[0]-'0')*100 + int(id[1]-'0')*10 + int(id[2]-'0')
	if province < 1 || province > 96 {
		return "", ErrCitizenIDProvince
	}
	// The fourth digit (century and sex) and the next two (year of birth)
	// may take any value, and the last six are a serial number.
	return id, nil
}

// ValidCitizenID checks the citizen ID s, ignoring white space. It returns
// ErrCitizenIDLength unless s holds exactly 12 digits, and
// ErrCitizenIDProvince unless the first three are a province code from 001
// to 096.
func ValidCitizenID(s string) error {
	_, err := NormalizeCitizenID(s)
	return err
}

// MaskCitizenID returns the citizen ID s, white space removed, with every
// character but the last four replaced by '*': "********1234". It never
// fails; a string of four characters or fewer is hidden entirely.
func MaskCitizenID(s string) string {
	id := []rune(stripSpace(s))
	if len(id) <= 4 {
		return strings.Repeat("*", len(id))
	}
	return strings.Repeat("*", len(id)-4) + string(id[len(id)-4:])
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
