package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/vntext"
)

//go:embed templates
var templateFS embed.FS

var hcm = mustLoadLocation("Asia/Ho_Chi_Minh")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name) // tzdata is embedded by cmd/trothu
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}

// view is what every page template receives.
type view struct {
	Lang   string
	P      *account.Principal
	Path   string
	Title  string
	Flash  string
	Error  string
	Demo   bool
	Data   any
	assets *assets
}

// residentFields fills the resident form sub-template.
type residentFields struct {
	V                             view
	Name, Gender, Relation, Phone string
	Year                          int
	Head                          bool
	ID                            int64
}

// T translates key into the page's language.
func (v view) T(key string) string { return translate(v.Lang, key) }

// Can reports whether the viewer may do act anywhere (for menus).
func (v view) Can(act string) bool { return v.P.CanAnywhere(account.Action(act)) }

func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset": s.assets.URL,
		"time": func(ms int64) string {
			if ms == 0 {
				return ""
			}
			return time.UnixMilli(ms).In(hcm).Format("02/01/2006 15:04")
		},
		"add":  func(a, b int) int { return a + b },
		"join": strings.Join,
		"dict2": func(v view, name string, year int, gender, relation, phone string, head bool, id int64) residentFields {
			return residentFields{V: v, Name: name, Year: year, Gender: gender, Relation: relation, Phone: phone, Head: head, ID: id}
		},
		"phone": vntext.LocalPhone,
		"reverse": func(us []area.Unit) []area.Unit {
			out := make([]area.Unit, 0, len(us))
			for i := len(us) - 1; i >= 0; i-- {
				if us[i].Level != area.LevelCountry {
					out = append(out, us[i])
				}
			}
			return out
		},
		"hasFlag":       func(f area.Flags, v int) bool { return f&area.Flags(v) != 0 },
		"requestUnread": s.requestUnread, // the layout's badge (request_notify_pages.go)
	}
	for k, v := range noticeFuncs { // the notice room's template functions (notice_funcs.go)
		funcs[k] = v
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimPrefix(n, "templates/")
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// render writes a full page; htmx requests pick the part they need with
// hx-select, so every URL is also a complete page that works without script.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any, flash string) {
	t, ok := s.pages[name]
	if !ok {
		s.log(r).Error("missing template", "name", name)
		http.Error(w, "missing template", http.StatusInternalServerError)
		return
	}
	v := view{Lang: langOf(r), P: principalOf(r), Path: r.URL.Path, Title: title, Data: data, Demo: s.cfg.Demo, Flash: flash, assets: s.assets}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log(r).Error("render", "template", name, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageError renders err as a page: a sign-in redirect for anonymous
// visitors, otherwise an error page with the user's message.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.From(err)
	if e.Code == apperr.Unauthenticated && r.Method == http.MethodGet {
		http.Redirect(w, r, "/signin?next="+r.URL.Path, http.StatusSeeOther)
		return
	}
	if e.Code == apperr.Internal {
		s.log(r).Error("internal error", "err", err)
	}
	s.render(w, r, status(e.Code), "error.html", translate(langOf(r), "error.title"), e.Message(langOf(r)), "")
}
