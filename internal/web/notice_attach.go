package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/notice"
)

// uploaded is a file from a multipart form.
type uploaded struct {
	name string
	data []byte
}

// formFiles reads the files of a multipart form field (none for a plain
// form), checking each is one a notice may carry.
func formFiles(r *http.Request, field string) ([]uploaded, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []uploaded
	for _, fh := range r.MultipartForm.File[field] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(f, notice.MaxAttachment+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		if _, err := notice.CheckAttachment(data); err != nil {
			return nil, err
		}
		out = append(out, uploaded{name: fh.Filename, data: data})
	}
	return out, nil
}

// parseNoticeForm parses a compose form, multipart (with files) or not.
func parseNoticeForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 5*notice.MaxAttachment)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.InvalidField("files", "Các tệp đính kèm quá lớn (tối đa 50 MB mỗi lần gửi).", "The attachments are too large (50 MB at most).")
	}
	return err
}

func (s *Server) apiNoticeAttach(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err == nil {
		err = parseNoticeForm(w, r)
	}
	var files []uploaded
	if err == nil {
		files, err = formFiles(r, "file")
	}
	if err == nil && len(files) != 1 {
		err = apperr.InvalidField("file", "Hãy gửi đúng một tệp trong trường file.", "Send exactly one file in the field file.")
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.notices.AddAttachment(r.Context(), principalOf(r), id, files[0].name, files[0].data)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// noticeAttachment serves a notice's file to anyone who may see the notice.
func (s *Server) noticeAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := apiPathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	aid, err := apiPathID(r, "aid")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	a, data, err := s.notices.Attachment(r.Context(), principalOf(r), id, aid)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": a.Name}))
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	_, _ = w.Write(data)
}
