package server

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/latchkey/latchkey/internal/config"
)

type routeRecorder struct{ patterns []string }

func (r *routeRecorder) Handle(pattern string, _ http.Handler) {
	r.patterns = append(r.patterns, pattern)
}

// TestOpenAPIDescribesEveryRoute keeps /openapi.yaml honest: every route
// that routes.go registers is documented with its method, and the document
// names no route that does not exist.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                            `yaml:"openapi"`
		Paths   map[string]map[string]interface{} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi: %q, want 3.1.x", doc.OpenAPI)
	}
	s := &Server{cfg: &config.Config{}, metrics: NewMetrics()}
	rec := &routeRecorder{}
	s.routes(rec)
	registered := map[string]bool{}
	for _, p := range rec.patterns {
		method, path, hasMethod := strings.Cut(p, " ")
		if !hasMethod {
			method, path = "", p
		}
		registered[path] = true
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %q is not in openapi.yaml", p)
			continue
		}
		if method != "" {
			if _, ok := ops[strings.ToLower(method)]; !ok {
				t.Errorf("route %q: openapi.yaml lacks the %s operation", p, method)
			}
		}
	}
	var extra []string
	for path := range doc.Paths {
		if !registered[path] {
			extra = append(extra, path)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("openapi.yaml documents routes that do not exist: %v", extra)
	}
}
