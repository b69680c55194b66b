package area

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
)

// Citizen-ID numbers are stored three ways, none of them the plain number:
// cccd_enc, AES-256-GCM under a key derived from the service's secret, for
// the audited reveal; cccd_hmac, a keyed hash, so that the database can
// refuse a number used twice without being able to read it; cccd_last4 for
// the masked display "********1234".

const cccdEncVersion = "v1:"

func deriveKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func citizenIDKeys(secret []byte) (cipher.AEAD, []byte) {
	block, err := aes.NewCipher(deriveKey(secret, "trothu/cccd/enc"))
	if err != nil {
		panic("area: " + err.Error()) // a 32-byte key cannot be refused
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("area: " + err.Error())
	}
	return aead, deriveKey(secret, "trothu/cccd/mac")
}

// protectedID is a citizen-ID number in its stored forms.
type protectedID struct {
	enc, mac, last4 string
}

func (s *Service) protect(id string) (protectedID, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return protectedID{}, err
	}
	sealed := s.aead.Seal(nonce, nonce, []byte(id), []byte("cccd"))
	return protectedID{
		enc:   cccdEncVersion + base64.RawStdEncoding.EncodeToString(sealed),
		mac:   s.citizenIDMAC(id),
		last4: id[len(id)-4:],
	}, nil
}

func (s *Service) citizenIDMAC(id string) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Service) unprotect(enc string) (string, error) {
	b64, ok := strings.CutPrefix(enc, cccdEncVersion)
	if !ok {
		return "", errors.New("citizen id: unknown storage version")
	}
	sealed, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", err
	}
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("citizen id: truncated")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte("cccd"))
	if err != nil {
		return "", errors.New("citizen id: cannot decrypt (was the secret key changed?)")
	}
	return string(plain), nil
}

func maskLast4(last4 string) string {
	if last4 == "" {
		return ""
	}
	return "********" + last4
}

// RevealCitizenID returns the full citizen-ID number of a resident. The
// caller needs account.ActViewCitizenID on the resident's unit; every reveal
// is recorded (audit.CitizenIDViewed) and the record is committed before the
// number is returned. It returns apperr Unauthenticated or Forbidden without
// the permission, and NotFound when there is no such resident or no number
// is stored for them.
func (s *Service) RevealCitizenID(ctx context.Context, p *account.Principal, residentID int64) (string, error) {
	var path, enc string
	err := s.d.QueryRow(ctx, "SELECT unit_path, COALESCE(cccd_enc, '') FROM residents WHERE id = ?", residentID).Scan(&path, &enc)
	if err != nil {
		return "", notFound(err, "cư dân", "Resident")
	}
	if err := account.Authorize(p, account.ActViewCitizenID, path); err != nil {
		return "", err
	}
	if enc == "" {
		return "", apperr.New(apperr.NotFound, "Cư dân này chưa có số CCCD.", "No citizen-ID number is recorded for this resident.")
	}
	id, err := s.unprotect(enc)
	if err != nil {
		return "", err
	}
	err = audit.Record(ctx, s.d, audit.Entry{
		ActorID: p.AccountID, ActorName: p.Name, Action: audit.CitizenIDViewed,
		SubjectType: "resident", SubjectID: strconv.FormatInt(residentID, 10), UnitPath: path,
	})
	if err != nil {
		return "", err
	}
	return id, nil
}
