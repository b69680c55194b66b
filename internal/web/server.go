// Package web is the HTTP face of trothu: routing, middleware, HTML pages,
// the JSON API under /api/v1, and static assets. Handlers are short: parse,
// call a room's service (which checks permission), respond.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/group"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/realtime"
	"github.com/trothu/trothu/internal/request"
)

// Config holds what the web layer needs to know about the deployment.
type Config struct {
	// Demo enables the demo accounts list and shows one-time codes on screen.
	Demo bool
	// SecureCookies forces the Secure flag (set it behind an HTTPS proxy).
	SecureCookies bool
	// MapTiles is an optional tile URL template for maps
	// ("https://tiles.example.vn/{z}/{x}/{y}.png"); empty: maps draw only
	// the ward boundaries we hold. MapAttribution is shown with the tiles.
	MapTiles, MapAttribution string
}

// Deps are the services the handlers call.
type Deps struct {
	DB       *db.DB
	Accounts *account.Service
	Areas    *area.Service
	Geo      *geo.Index
	Logger   *slog.Logger
	Jobs     *jobs.Queue
	Broker   *realtime.Broker
	Groups   *group.Service
	Notices  *notice.Service
	Requests *request.Service
}

// Server serves every HTTP route of trothu.
type Server struct {
	cfg       Config
	db        *db.DB
	accounts  *account.Service
	areas     *area.Service
	geo       *geo.Index
	logger    *slog.Logger
	jobs      *jobs.Queue
	broker    *realtime.Broker
	groups    *group.Service
	notices   *notice.Service
	requests  *request.Service
	metrics   *metrics
	assets    *assets
	pages     map[string]*template.Template
	mux       *http.ServeMux
	apiRoutes []string // "METHOD /api/v1/…" patterns, checked against the OpenAPI document
	openAPI   []byte
	topicAuth map[string]TopicAuthorizer // /events ?topic= kinds → who may subscribe (events.go)
}

// New builds the server and its routes. It returns an error if the embedded
// templates or assets are broken.
func New(cfg Config, deps Deps) (*Server, error) {
	s := &Server{
		cfg: cfg, db: deps.DB, accounts: deps.Accounts, areas: deps.Areas, geo: deps.Geo,
		logger: deps.Logger, mux: http.NewServeMux(),
		jobs: deps.Jobs, broker: deps.Broker, groups: deps.Groups, notices: deps.Notices, requests: deps.Requests,
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.metrics = newMetrics(deps.DB)
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	if s.openAPI, err = openAPIDocument(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handler returns the server's root handler with all middleware.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	var h http.Handler = http.HandlerFunc(s.serveMux)
	h = s.mapTilesCSP(h) // request_map.go
	h = s.authenticate(h)
	h = language(h)
	h = cop.Handler(h)
	h = securityHeaders(h)
	h = s.observe(h)
	h = requestID(h)
	return h
}

// serveMux routes the request and records the matched pattern for the
// metrics and logs of observe, which holds an earlier copy of the request.
func (s *Server) serveMux(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
	if rt, ok := r.Context().Value(keyRoute).(*string); ok {
		*rt = r.Pattern
	}
}

// APIRoutes returns the registered JSON API patterns ("GET /api/v1/me").
func (s *Server) APIRoutes() []string { return append([]string(nil), s.apiRoutes...) }

func (s *Server) handle(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, h) }

// api registers a JSON API route and remembers it for the OpenAPI check.
func (s *Server) api(method, path string, h http.HandlerFunc) {
	p := method + " /api/v1" + path
	s.apiRoutes = append(s.apiRoutes, p)
	s.mux.Handle(p, h)
}

func (s *Server) routes() {
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.mux.Handle("GET /static/", s.assets)
	s.handle("GET /lang/{lang}", s.setLang)
	s.pageRoutes()
	s.accountRoutes()
	s.apiRoutesV1()
	// Each room registers its pages and API in its own file (routes_*.go).
	s.realtimeRoutes()
	s.groupRoutes()
	s.noticeRoutes()
	s.requestRoutes()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.db.Ping(ctx); err != nil {
		s.log(r).Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "en" {
		lang = "vi"
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	back := r.URL.Query().Get("back")
	if back == "" || back[0] != '/' || (len(back) > 1 && (back[1] == '/' || back[1] == '\\')) {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
