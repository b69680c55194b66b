package notice

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Attachment is a file sent with a notice: a PDF or an image.
type Attachment struct {
	ID          int64     `json:"id"`
	NoticeID    int64     `json:"notice_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
}

// MaxAttachment is the largest file a notice may carry.
const MaxAttachment = 10 << 20

// attachmentTypes are the accepted types, recognised from the content.
var attachmentTypes = map[string]bool{"application/pdf": true, "image/jpeg": true, "image/png": true, "image/webp": true, "image/gif": true}

// CheckAttachment returns the type of a file a notice may carry, read
// from its content, or Invalid for an empty, too large or unsupported file.
func CheckAttachment(data []byte) (string, error) {
	if len(data) == 0 || len(data) > MaxAttachment {
		return "", apperr.InvalidField("file", "Tệp đính kèm phải có nội dung và không quá 10 MB.", "The attachment must not be empty nor larger than 10 MB.")
	}
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !attachmentTypes[ct] {
		return "", apperr.InvalidField("file", "Chỉ đính kèm được tệp PDF hoặc ảnh (JPEG, PNG, WebP, GIF).", "Only PDF files and images (JPEG, PNG, WebP, GIF) can be attached.")
	}
	return ct, nil
}

// AddAttachment attaches a file to a notice. Only someone who may send to
// the notice's unit may attach. It returns Invalid for an empty, too large
// or unsupported file (the type is read from the content, not the name).
func (s *Service) AddAttachment(ctx context.Context, p *account.Principal, noticeID int64, name string, data []byte) (Attachment, error) {
	if p == nil {
		return Attachment{}, apperr.ErrUnauthenticated
	}
	n, err := s.get(ctx, noticeID)
	if err != nil {
		return Attachment{}, err
	}
	if err := account.Authorize(p, account.ActSendNotice, n.UnitPath); err != nil {
		return Attachment{}, err
	}
	ct, err := CheckAttachment(data)
	if err != nil {
		return Attachment{}, err
	}
	name = strings.TrimSpace(vntext.NFC(path.Base(strings.ReplaceAll(name, "\\", "/"))))
	if name == "" || name == "." || name == "/" || !utf8.ValidString(name) {
		name = "tep-dinh-kem"
	}
	if r := []rune(name); len(r) > 120 {
		name = string(r[:120])
	}
	sum := sha256.Sum256(data)
	a := Attachment{NoticeID: n.ID, Name: name, ContentType: ct, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), CreatedAt: s.cfg.Now().UTC()}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO notice_attachments(notice_id, name, content_type, size, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.NoticeID, a.Name, a.ContentType, a.Size, a.SHA256, data, db.Millis(a.CreatedAt)).Scan(&a.ID)
	})
	return a, err
}

// Attachments lists a notice's files (without their content).
func (s *Service) attachments(ctx context.Context, noticeID int64) ([]Attachment, error) {
	rows, err := s.d.Query(ctx, "SELECT id, notice_id, name, content_type, size, sha256, created_at FROM notice_attachments WHERE notice_id = ? ORDER BY id", noticeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		var at int64
		if err := rows.Scan(&a.ID, &a.NoticeID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &at); err != nil {
			return nil, err
		}
		a.CreatedAt = db.Time(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Attachment returns one file of a notice with its content, for anyone who
// may see the notice. It returns NotFound otherwise.
func (s *Service) Attachment(ctx context.Context, p *account.Principal, noticeID, id int64) (Attachment, []byte, error) {
	if _, err := s.Get(ctx, p, noticeID); err != nil {
		return Attachment{}, nil, err
	}
	var a Attachment
	var at int64
	var data []byte
	err := s.d.QueryRow(ctx, "SELECT id, notice_id, name, content_type, size, sha256, created_at, data FROM notice_attachments WHERE id = ? AND notice_id = ?", id, noticeID).
		Scan(&a.ID, &a.NoticeID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &at, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return Attachment{}, nil, apperr.NotFoundf("tệp đính kèm", "Attachment")
	}
	a.CreatedAt = db.Time(at)
	return a, data, err
}
