package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/db"
)

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestOpenAPIMatchesRoutes: the document served at /api/v1/openapi.json
// describes exactly the registered routes, and its references resolve.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, db.SQLite)
	r := e.call(t, "GET", "/openapi.json", "", nil, "", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /openapi.json: got %d, want 200", r.status)
	}
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components map[string]map[string]any            `json:"components"`
	}
	if err := json.Unmarshal(r.raw, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi: got %q, want 3.x", doc.OpenAPI)
	}

	var documented []string
	for path, ops := range doc.Paths {
		for method, o := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+pathParam.ReplaceAllString(path, "{}"))
			checkOperation(t, method, path, o, doc.Components)
		}
	}
	var registered []string
	for _, rt := range e.srv.APIRoutes() {
		m, p, _ := strings.Cut(rt, " ")
		registered = append(registered, m+" "+pathParam.ReplaceAllString(strings.TrimPrefix(p, "/api/v1"), "{}"))
	}
	slices.Sort(documented)
	slices.Sort(registered)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("openapi.json describes %s, which is not a route", d)
		}
	}
	if len(documented) != len(registered) {
		t.Errorf("got %d documented operations, want %d (one per route)", len(documented), len(registered))
	}

	// Every $ref points at a component that exists.
	for _, ref := range regexp.MustCompile(`"\$ref":\s*"#/components/([^/"]+)/([^"]+)"`).FindAllStringSubmatch(string(r.raw), -1) {
		if _, ok := doc.Components[ref[1]][ref[2]]; !ok {
			t.Errorf("$ref #/components/%s/%s: no such component", ref[1], ref[2])
		}
	}
	errSchema, _ := json.Marshal(doc.Components["schemas"]["Error"])
	for _, f := range []string{`"error"`, `"code"`, `"message"`} {
		if !strings.Contains(string(errSchema), f) {
			t.Errorf("Error schema: got %s, want it to name %s", errSchema, f)
		}
	}
	if _, ok := doc.Components["securitySchemes"]["bearer"]; !ok {
		t.Errorf("securitySchemes: got %v, want a bearer scheme", doc.Components["securitySchemes"])
	}
}

// checkOperation: every path parameter is declared, and there is a success
// response.
func checkOperation(t *testing.T, method, path string, o map[string]any, comps map[string]map[string]any) {
	t.Helper()
	declared := map[string]bool{}
	params, _ := o["parameters"].([]any)
	for _, p := range params {
		pm, _ := p.(map[string]any)
		if ref, ok := pm["$ref"].(string); ok {
			pm, _ = comps["parameters"][strings.TrimPrefix(ref, "#/components/parameters/")].(map[string]any)
		}
		if pm["in"] == "path" {
			declared[pm["name"].(string)] = true
		}
	}
	for _, m := range pathParam.FindAllString(path, -1) {
		if name := strings.Trim(m, "{}"); !declared[name] {
			t.Errorf("%s %s: path parameter %s is not declared", strings.ToUpper(method), path, name)
		}
	}
	resp, _ := o["responses"].(map[string]any)
	ok := false
	for code := range resp {
		ok = ok || strings.HasPrefix(code, "2")
	}
	if !ok {
		t.Errorf("%s %s: no 2xx response", strings.ToUpper(method), path)
	}
}
