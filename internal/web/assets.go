package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

// assets serves the embedded static files under content-hash URLs
// (/static/app.3f2a9c1b.css), so browsers cache them forever and a new
// release is fetched at once. Compressible files are gzipped once at start.
type assets struct {
	byURL  map[string]*asset // "/static/app.3f2a9c1b.css" → asset
	byName map[string]string // "app.css" → "/static/app.3f2a9c1b.css"
}

type asset struct {
	body, gz    []byte
	contentType string
}

func loadAssets() (*assets, error) {
	a := &assets{byURL: map[string]*asset{}, byName: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		url := "/static/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		as := &asset{body: body, contentType: ct}
		if strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "json") || strings.Contains(ct, "svg") {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			if _, err := zw.Write(body); err != nil {
				return err
			}
			if err := zw.Close(); err != nil {
				return err
			}
			if b.Len() < len(body) {
				as.gz = b.Bytes()
			}
		}
		a.byURL[url] = as
		a.byName[name] = url
		return nil
	})
	return a, err
}

// URL returns the content-hash URL of a static file; it panics on an unknown
// name so a typo in a template fails the first test that renders it.
func (a *assets) URL(name string) string {
	u, ok := a.byName[name]
	if !ok {
		panic(fmt.Sprintf("unknown static asset %q", name))
	}
	return u
}

func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	as, ok := a.byURL[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", as.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	body := as.body
	if as.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = as.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}
