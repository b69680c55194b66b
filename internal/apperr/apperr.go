// Package apperr holds the one error type of trothu. Every room returns
// *Error for conditions a user can act on; anything else is internal and is
// logged, never shown. The web layer maps Code to an HTTP status in one place.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers and for the HTTP mapping.
type Code string

// The codes. Keep the list short: a new code needs a new HTTP mapping.
const (
	Invalid         Code = "invalid"
	NotFound        Code = "not_found"
	Conflict        Code = "conflict"
	Forbidden       Code = "forbidden"
	Unauthenticated Code = "unauthenticated"
	TooManyRequests Code = "too_many_requests"
	Unavailable     Code = "unavailable" // a part of the deployment is missing or down
	Internal        Code = "internal"
)

// Error is a user-facing error: a code, a Vietnamese message and its English
// translation. Cause, if set, is for the log only.
type Error struct {
	Code  Code
	VI    string
	EN    string
	Field string // optional: the form field or CSV column at fault
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.EN, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.EN)
}

func (e *Error) Unwrap() error { return e.Cause }

// Message returns the message in lang ("en" or anything else for Vietnamese).
func (e *Error) Message(lang string) string {
	if lang == "en" && e.EN != "" {
		return e.EN
	}
	return e.VI
}

// New returns an *Error with the given code and messages.
func New(code Code, vi, en string) *Error {
	return &Error{Code: code, VI: vi, EN: en}
}

// Wrap returns an *Error with the given code and messages that wraps cause.
func Wrap(cause error, code Code, vi, en string) *Error {
	return &Error{Code: code, VI: vi, EN: en, Cause: cause}
}

// InvalidField returns an Invalid error naming the field at fault.
func InvalidField(field, vi, en string) *Error {
	return &Error{Code: Invalid, VI: vi, EN: en, Field: field}
}

// From returns the *Error in err's chain, or an Internal error wrapping err.
// It returns nil for a nil err.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, VI: "Đã có lỗi xảy ra, vui lòng thử lại sau.", EN: "Something went wrong; please try again later.", Cause: err}
}

// CodeOf returns the code of err: Internal for errors that are not *Error,
// and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return From(err).Code
}

// Common errors, shared so every room speaks alike.
var (
	ErrForbidden       = New(Forbidden, "Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this.")
	ErrUnauthenticated = New(Unauthenticated, "Vui lòng đăng nhập.", "Please sign in.")
)

// NotFoundf returns a NotFound error for the named thing ("hộ gia đình", "household").
func NotFoundf(vi, en string) *Error {
	return New(NotFound, "Không tìm thấy "+vi+".", en+" not found.")
}
