package web

import (
	"net/http"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
)

type accountData struct {
	Account    account.Account
	Error      string
	TOTPSecret string
	TOTPURL    string
	Email      string // notify's address; shown only when channels are configured
	HasEmail   bool
}

func (s *Server) accountRoutes() {
	s.handle("GET /account", s.accountPage)
	s.handle("POST /account/password", s.accountPassword)
	s.handle("POST /account/totp", s.accountTOTPEnroll)
	s.handle("POST /account/totp/confirm", s.accountTOTPConfirm)
	s.handle("POST /account/totp/disable", s.accountTOTPDisable)
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, code int, d accountData) {
	p := principalOf(r)
	if p == nil {
		s.pageError(w, r, apperr.ErrUnauthenticated)
		return
	}
	acc, err := s.accounts.Account(r.Context(), p.AccountID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Account = acc
	if err := s.accountEmail(r, &d); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, code, "account.html", translate(langOf(r), "nav.account"), d, flash(r))
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.showAccount(w, r, http.StatusOK, accountData{})
}

// accountFormResult re-renders the page with err, or redirects with msg.
func (s *Server) accountFormResult(w http.ResponseWriter, r *http.Request, err error, msg string) {
	if err != nil {
		if !formError(err) && codeOf(err) != apperr.Unauthenticated {
			s.pageError(w, r, err)
			return
		}
		s.showAccount(w, r, status(codeOf(err)), accountData{Error: message(r, err)})
		return
	}
	http.Redirect(w, r, "/account?msg="+msg, http.StatusSeeOther)
}

func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p == nil {
		s.pageError(w, r, apperr.ErrUnauthenticated)
		return
	}
	var err error
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		err = apperr.InvalidField("password2", "Hai lần nhập mật khẩu không khớp.", "The two passwords differ.")
	} else {
		err = s.accounts.SetPassword(r.Context(), p, p.AccountID, r.PostFormValue("password"))
	}
	s.accountFormResult(w, r, err, "password_set")
}

func (s *Server) accountTOTPEnroll(w http.ResponseWriter, r *http.Request) {
	secret, u, err := s.accounts.EnrollTOTP(r.Context(), principalOf(r))
	if err != nil {
		s.accountFormResult(w, r, err, "")
		return
	}
	s.showAccount(w, r, http.StatusOK, accountData{TOTPSecret: secret, TOTPURL: u})
}

func (s *Server) accountTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	s.accountFormResult(w, r, s.accounts.ConfirmTOTP(r.Context(), principalOf(r), r.PostFormValue("code")), "totp_on")
}

func (s *Server) accountTOTPDisable(w http.ResponseWriter, r *http.Request) {
	s.accountFormResult(w, r, s.accounts.DisableTOTP(r.Context(), principalOf(r), r.PostFormValue("code")), "totp_off")
}
