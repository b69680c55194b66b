package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/vntext"
)

// maxImportBytes bounds a household CSV upload (a large ward's file is a
// few MiB).
const maxImportBytes = 20 << 20

// importErrorBody is the error contract plus the bad rows of an import:
// {"error":{"code":"invalid","message":…},"rows":[{"line","field","message"}]}.
// Line counts the header as line 1; field is the CSV column; message is in
// Vietnamese.
type importErrorBody struct {
	Error errorDetail     `json:"error"`
	Rows  []area.RowError `json:"rows"`
}

var errTooLarge = apperr.InvalidField("file", "Tệp quá lớn (tối đa 20 MiB).", "The file is too large (at most 20 MiB).")

// apiHouseholdImport takes the CSV as the request body (text/csv) or as
// the field "file" of a multipart form. All or nothing: bad rows import
// nothing and come back in "rows".
func (s *Server) apiHouseholdImport(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	body := &sizeGuard{r: http.MaxBytesReader(w, r.Body, maxImportBytes)}
	src, err := csvUpload(r, body)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rep, err := s.areas.ImportHouseholdsCSV(r.Context(), principalOf(r), id, src)
	switch {
	case body.tooLarge:
		s.apiError(w, r, errTooLarge)
	case err != nil && len(rep.Errors) > 0:
		e := apperr.From(err)
		writeJSON(w, status(e.Code), importErrorBody{Error: errorDetail{Code: e.Code, Message: e.Message(langOf(r))}, Rows: rep.Errors})
	case err != nil:
		s.apiError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

// csvUpload returns the CSV of the request read through body: the body
// itself, or the part named "file" of a multipart form.
func csvUpload(r *http.Request, body io.Reader) (io.Reader, error) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return body, nil
	}
	noFile := apperr.InvalidField("file", "Vui lòng chọn tệp CSV (trường \"file\").", "Please attach the CSV file (field \"file\").")
	if params["boundary"] == "" {
		return nil, noFile
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, noFile
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errTooLarge
			}
			return nil, apperr.Wrap(err, apperr.Invalid, "Dữ liệu tải lên không đúng định dạng.", "Malformed multipart body.")
		}
		if part.FormName() == "file" {
			return part, nil
		}
	}
}

// sizeGuard remembers whether the size limit cut the body short, whatever
// the reader above it makes of the error.
type sizeGuard struct {
	r        io.Reader
	tooLarge bool
}

func (g *sizeGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		g.tooLarge = true
	}
	return n, err
}

// apiHouseholdExport streams the households of a unit's subtree as CSV.
// Headers are written with the first byte, so a refusal before that is
// still a JSON error.
func (s *Server) apiHouseholdExport(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	u, err := s.areas.Unit(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := &csvDownload{w: w, name: "Hộ gia đình - " + u.FullName + " - " + time.Now().In(hcm).Format(time.DateOnly)}
	if err := s.areas.ExportHouseholdsCSV(r.Context(), principalOf(r), id, out); err != nil {
		if !out.started {
			s.apiError(w, r, err)
			return
		}
		s.log(r).Error("export households", "unit", id, "err", err)
	}
}

// csvDownload is a ResponseWriter wrapper that sends the attachment
// headers just before the first byte.
type csvDownload struct {
	w       http.ResponseWriter
	name    string
	started bool
}

func (c *csvDownload) Write(p []byte) (int, error) {
	if !c.started {
		c.started = true
		h := c.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", attachment(c.name+".csv"))
		h.Set("Cache-Control", "no-store")
		c.w.WriteHeader(http.StatusOK)
	}
	return c.w.Write(p)
}

// attachment returns a Content-Disposition for a file name in Vietnamese:
// an ASCII fallback without diacritics for old clients, and the real name
// in RFC 5987 form ("Phường Bến Thành" survives in every current browser).
func attachment(name string) string {
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiFileName(name), rfc5987(name))
}

// asciiFileName folds name to lower-case ASCII words joined by hyphens,
// keeping the extension: "Hộ gia đình - Phường Bến Thành.csv" →
// "ho-gia-dinh-phuong-ben-thanh.csv".
func asciiFileName(name string) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name, ext = name[:i], name[i:]
	}
	var b strings.Builder
	dash := false
	for _, r := range vntext.Fold(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		b.WriteString("export")
	}
	return b.String() + ext
}

// rfc5987 percent-encodes s as an RFC 5987 value (UTF-8 bytes outside
// attr-char escaped).
func rfc5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
