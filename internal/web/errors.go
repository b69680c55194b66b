package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/trothu/trothu/internal/apperr"
)

// status maps an error code to its HTTP status: the one place this happens.
func status(code apperr.Code) int {
	switch code {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.TooManyRequests:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    apperr.Code `json:"code"`
	Message string      `json:"message"`
	Field   string      `json:"field,omitempty"`
}

// apiError writes err as the JSON error contract. Internal errors are logged
// with the request id and shown only as a generic message.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.From(err)
	if e.Code == apperr.Internal {
		s.log(r).Error("internal error", slog.Any("err", err))
	}
	writeJSON(w, status(e.Code), errorBody{Error: errorDetail{Code: e.Code, Message: e.Message(langOf(r)), Field: e.Field}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// decodeJSON reads a JSON request body of at most 1 MiB into v.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.Invalid, "Dữ liệu gửi lên quá lớn.", "Request body too large.")
		}
		return apperr.Wrap(err, apperr.Invalid, "Dữ liệu gửi lên không đúng định dạng JSON: "+err.Error(), "Malformed JSON body: "+err.Error())
	}
	return nil
}
