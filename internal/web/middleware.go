package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyPrincipal
	keyLang
	keyRoute
	keyDeferredAuth
)

const sessionCookie = "trothu_session"

// requestID gives every request an id (kept from X-Request-Id when sane),
// echoed in the response and on every log line of the request.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsAny(id, " \r\n\"") {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
	})
}

func requestIDOf(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

func (s *Server) log(r *http.Request) *slog.Logger {
	return s.logger.With("request_id", requestIDOf(r))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (rec *statusRecorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *statusRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += n
	return n, err
}

// Flush lets streaming handlers (server-sent events) flush through the recorder.
func (rec *statusRecorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (rec *statusRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// observe logs each request and records its metrics by route pattern.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		route := new(string)
		r = r.WithContext(context.WithValue(r.Context(), keyRoute, route))
		defer func() {
			if v := recover(); v != nil {
				s.log(r).Error("panic", "panic", v, "path", r.URL.Path)
				if rec.status == 0 {
					http.Error(rec, "Đã có lỗi xảy ra.", http.StatusInternalServerError)
				}
			}
			d := time.Since(start)
			pattern := *route
			if pattern == "" {
				pattern = "unmatched"
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
			s.metrics.latency.WithLabelValues(pattern).Observe(d.Seconds())
			if pattern != "GET /healthz" && pattern != "GET /metrics" && !strings.HasPrefix(pattern, "GET /static/") {
				s.log(r).Info("request", "method", r.Method, "path", r.URL.Path, "route", pattern, "status", rec.status, "bytes", rec.bytes, "ms", d.Milliseconds())
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

// authenticate loads the principal from a bearer token or the session
// cookie. A bad cookie is cleared and the request goes on anonymous; a bad
// bearer token is an error, since an API client should know. A request
// whose handler authenticates inside its own batch (authDeferred) goes on
// with the token instead.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if authDeferred(r) {
			if t := tokenOf(r); t.token != "" {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyDeferredAuth, t)))
				return
			}
		}
		if r, ok := s.authRequest(w, r); ok {
			next.ServeHTTP(w, r)
		}
	})
}

// requestToken is the session token a request carries.
type requestToken struct {
	token  string
	bearer bool // Authorization: Bearer, not the cookie
}

func tokenOf(r *http.Request) requestToken {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return requestToken{strings.TrimSpace(strings.TrimPrefix(h, "Bearer ")), true}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return requestToken{token: c.Value}
	}
	return requestToken{}
}

// authRequest is authenticate's work: it returns r with its principal, or
// ok false once it has answered a bad bearer token.
func (s *Server) authRequest(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	t := tokenOf(r)
	if t.token == "" {
		return r, true
	}
	p, err := s.accounts.Authenticate(r.Context(), t.token)
	return s.authenticated(w, r, t, p, err)
}

// authenticated applies the outcome of authenticating t.
func (s *Server) authenticated(w http.ResponseWriter, r *http.Request, t requestToken, p *account.Principal, err error) (*http.Request, bool) {
	switch {
	case err == nil:
		return r.WithContext(context.WithValue(r.Context(), keyPrincipal, p)), true
	case t.bearer:
		s.apiError(w, r, err)
		return r, false
	default:
		s.clearSessionCookie(w)
		return r, true
	}
}

// authDeferred reports whether r's handler authenticates its session
// itself: POST /api/v1/notices/{id}/ack, where the acknowledgement's batch
// reads the session inside its own write (notice.Service.AckToken).
func authDeferred(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/notices/")
	if !ok {
		return false
	}
	id, ok := strings.CutSuffix(rest, "/ack")
	return ok && id != "" && !strings.Contains(id, "/")
}

// deferredToken returns the token authenticate left to r's handler.
func deferredToken(r *http.Request) (requestToken, bool) {
	t, ok := r.Context().Value(keyDeferredAuth).(requestToken)
	return t, ok
}

func principalOf(r *http.Request) *account.Principal {
	p, _ := r.Context().Value(keyPrincipal).(*account.Principal)
	return p
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(r),
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Server) secureCookies(r *http.Request) bool {
	return s.cfg.SecureCookies || r.TLS != nil
}

// language picks Vietnamese unless the visitor chose English (cookie
// "lang", set by /lang) or an API client asks for it in Accept-Language.
func language(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := "vi"
		if c, err := r.Cookie("lang"); err == nil && c.Value == "en" {
			lang = "en"
		} else if strings.HasPrefix(r.URL.Path, "/api/") && strings.HasPrefix(r.Header.Get("Accept-Language"), "en") {
			lang = "en"
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyLang, lang)))
	})
}

func langOf(r *http.Request) string {
	if l, _ := r.Context().Value(keyLang).(string); l != "" {
		return l
	}
	return "vi"
}
