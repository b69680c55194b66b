package web

import (
	"net/http"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/vntext"
)

type signinData struct {
	Step      string // "phone", "code"
	Phone     string
	Next      string
	DemoCode  string
	Error     string
	Demo      []DemoAccount
	PwPhone   string
	PwError   string
	ShowPwBox bool
}

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	d := signinData{Step: "phone", Next: safeNext(r.URL.Query().Get("next"))}
	s.renderSignin(w, r, http.StatusOK, d)
}

func (s *Server) renderSignin(w http.ResponseWriter, r *http.Request, code int, d signinData) {
	if s.cfg.Demo && d.Step == "phone" {
		d.Demo = s.demoAccounts(r)
	}
	s.render(w, r, code, "signin.html", translate(langOf(r), "signin.title"), d, "")
}

func (s *Server) signinRequestCode(w http.ResponseWriter, r *http.Request) {
	d := signinData{Step: "phone", Phone: strings.TrimSpace(r.PostFormValue("phone")), Next: safeNext(r.PostFormValue("next"))}
	res, err := s.accounts.RequestOTP(r.Context(), d.Phone, audit.ClientIP(r.RemoteAddr))
	if err != nil {
		e := apperr.From(err)
		if e.Code == apperr.Internal {
			s.log(r).Error("request otp", "err", err)
		}
		d.Error = e.Message(langOf(r))
		s.renderSignin(w, r, status(e.Code), d)
		return
	}
	d.Step, d.DemoCode = "code", res.DemoCode
	if p, err := vntext.NormalizePhone(d.Phone); err == nil {
		d.Phone = vntext.LocalPhone(p)
	}
	s.renderSignin(w, r, http.StatusOK, d)
}

func (s *Server) signinVerify(w http.ResponseWriter, r *http.Request) {
	d := signinData{Step: "code", Phone: r.PostFormValue("phone"), Next: safeNext(r.PostFormValue("next"))}
	sess, _, err := s.accounts.VerifyOTP(r.Context(), d.Phone, strings.TrimSpace(r.PostFormValue("code")), audit.ClientIP(r.RemoteAddr), r.UserAgent(), account.SessionWeb)
	if err != nil {
		e := apperr.From(err)
		if e.Code == apperr.Internal {
			s.log(r).Error("verify otp", "err", err)
		}
		d.Error = e.Message(langOf(r))
		s.renderSignin(w, r, status(e.Code), d)
		return
	}
	s.setSessionCookie(w, r, sess.Token, sess.ExpiresAt)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (s *Server) signinPassword(w http.ResponseWriter, r *http.Request) {
	d := signinData{Step: "phone", Next: safeNext(r.PostFormValue("next")), PwPhone: r.PostFormValue("phone"), ShowPwBox: true}
	sess, _, err := s.accounts.SignInPassword(r.Context(), d.PwPhone, r.PostFormValue("password"), strings.TrimSpace(r.PostFormValue("totp")), audit.ClientIP(r.RemoteAddr), r.UserAgent(), account.SessionWeb)
	if err != nil {
		e := apperr.From(err)
		if e.Code == apperr.Internal {
			s.log(r).Error("password sign-in", "err", err)
		}
		d.PwError = e.Message(langOf(r))
		s.renderSignin(w, r, status(e.Code), d)
		return
	}
	s.setSessionCookie(w, r, sess.Token, sess.ExpiresAt)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	if p := principalOf(r); p != nil {
		if err := s.accounts.SignOut(r.Context(), p); err != nil {
			s.log(r).Error("sign out", "err", err)
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
