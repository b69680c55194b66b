package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/demo"
	"github.com/trothu/trothu/internal/vntext"
)

type otpRequest struct {
	Phone string `json:"phone"`
}

type otpResponse struct {
	Sent      bool   `json:"sent"`
	ExpiresIn int    `json:"expires_in"` // seconds
	DemoCode  string `json:"demo_code,omitempty"`
}

func (s *Server) apiRequestOTP(w http.ResponseWriter, r *http.Request) {
	var in otpRequest
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	res, err := s.accounts.RequestOTP(r.Context(), in.Phone, audit.ClientIP(r.RemoteAddr))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := otpResponse{Sent: true, ExpiresIn: int(res.ExpiresIn / time.Second)}
	if s.cfg.Demo {
		out.DemoCode = res.DemoCode
	}
	writeJSON(w, http.StatusOK, out)
}

type verifyRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) apiVerifyOTP(w http.ResponseWriter, r *http.Request) {
	var in verifyRequest
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	sess, _, err := s.accounts.VerifyOTP(r.Context(), in.Phone, strings.TrimSpace(in.Code), audit.ClientIP(r.RemoteAddr), r.UserAgent(), account.SessionAPI)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt})
}

type passwordSignIn struct {
	Phone    string `json:"phone"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

func (s *Server) apiSignInPassword(w http.ResponseWriter, r *http.Request) {
	var in passwordSignIn
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	sess, _, err := s.accounts.SignInPassword(r.Context(), in.Phone, in.Password, strings.TrimSpace(in.TOTP), audit.ClientIP(r.RemoteAddr), r.UserAgent(), account.SessionAPI)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt})
}

func (s *Server) apiSignOut(w http.ResponseWriter, r *http.Request) {
	if err := s.accounts.SignOut(r.Context(), principalOf(r)); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type meResponse struct {
	ID         int64       `json:"id"`
	Name       string      `json:"name"`
	Phone      string      `json:"phone"` // masked
	ResidentID int64       `json:"resident_id,omitempty"`
	Grants     []grantView `json:"grants"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.apiError(w, r, apperr.ErrUnauthenticated)
		return
	}
	out := meResponse{ID: p.AccountID, Name: p.Name, Phone: vntext.MaskPhone(p.Phone), ResidentID: p.ResidentID, Grants: grantViews(p.Grants, langOf(r))}
	writeJSON(w, http.StatusOK, out)
}

type passwordChange struct {
	Password string `json:"password"`
}

func (s *Server) apiSetMyPassword(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.apiError(w, r, apperr.ErrUnauthenticated)
		return
	}
	var in passwordChange
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.accounts.SetPassword(r.Context(), p, p.AccountID, in.Password); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type totpEnrollment struct {
	Secret     string `json:"secret"`      // base32, for typing into an app
	OTPAuthURL string `json:"otpauth_url"` // for a QR code
}

func (s *Server) apiEnrollTOTP(w http.ResponseWriter, r *http.Request) {
	secret, u, err := s.accounts.EnrollTOTP(r.Context(), principalOf(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, totpEnrollment{Secret: secret, OTPAuthURL: u})
}

type totpConfirm struct {
	Code string `json:"code"`
}

func (s *Server) apiConfirmTOTP(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.apiError(w, r, apperr.ErrUnauthenticated)
		return
	}
	var in totpConfirm
	if err := decodeJSON(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.accounts.ConfirmTOTP(r.Context(), p, in.Code); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type demoAccount struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
	Role  string `json:"role"`  // account.Role
	Label string `json:"label"` // the role in the request's language, with any note
}

func (s *Server) apiDemoAccounts(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Demo {
		s.apiError(w, r, apperr.New(apperr.NotFound, "Chỉ có ở chế độ thử nghiệm.", "Only available in demo mode."))
		return
	}
	accts, err := demo.Accounts(r.Context(), s.db)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]demoAccount, 0, len(accts))
	for _, a := range accts {
		role, _, _ := strings.Cut(a.Role, " ")
		out = append(out, demoAccount{Phone: a.Phone, Name: a.Name, Role: role, Label: roleLabel(a.Role, langOf(r))})
	}
	writeJSON(w, http.StatusOK, out)
}
