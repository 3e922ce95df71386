package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/shopcrm/shopcrm/internal/testshared"
)

var docs sync.Map // rel path → *loaded

type loaded struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

// OpenAPI loads and validates an OpenAPI file under the shared directory,
// e.g. "specs/line/messaging-api.yml", once per test binary.
func OpenAPI(t testing.TB, rel string) *openapi3.T {
	t.Helper()
	p := testshared.Path(t, rel)
	v, _ := docs.LoadOrStore(rel, &loaded{})
	l := v.(*loaded)
	l.once.Do(func() { l.doc, l.err = loadOpenAPI(p) })
	if l.err != nil {
		t.Fatalf("load %s: %v", rel, l.err)
	}
	return l.doc
}

func loadOpenAPI(path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	// Klaviyo's file has one schema whose default and example match two
	// oneOf branches; its own README notes these two options are needed.
	if err := doc.Validate(loader.Context,
		openapi3.DisableSchemaDefaultsValidation(),
		openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("spec does not validate: %w", err)
	}
	return doc, nil
}

// FindRoute finds the operation for method and rawURL, matching the spec's
// path templates against the end of the URL's path: scheme, host and any
// base path are ignored, since requests go to a fake's address.
func FindRoute(doc *openapi3.T, method, rawURL string) (*routers.Route, map[string]string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	var best *routers.Route
	var bestParams map[string]string
	bestScore := -1
	for path, item := range doc.Paths.Map() {
		op := item.GetOperation(strings.ToUpper(method))
		if op == nil {
			continue
		}
		tmpl := strings.Split(strings.Trim(path, "/"), "/")
		if len(tmpl) > len(segs) {
			continue
		}
		tail := segs[len(segs)-len(tmpl):]
		params := map[string]string{}
		score := 0
		ok := true
		for i, t := range tmpl {
			if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
				v, _ := url.PathUnescape(tail[i])
				params[t[1:len(t)-1]] = v
				continue
			}
			if t != tail[i] {
				ok = false
				break
			}
			score += 2
		}
		score += len(tmpl) // prefer longer templates among equal literals
		if ok && score > bestScore {
			best = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: strings.ToUpper(method), Operation: op}
			bestParams, bestScore = params, score
		}
	}
	if best == nil {
		return nil, nil, fmt.Errorf("no operation for %s %s", method, u.Path)
	}
	return best, bestParams, nil
}

// ValidateExchange checks a recorded request and its response against doc.
// Authentication is not checked (fakes take any well-formed credential).
func ValidateExchange(doc *openapi3.T, ex Exchange) error {
	route, params, err := FindRoute(doc, ex.Method, ex.URL)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(ex.Method, ex.URL, bytes.NewReader(ex.RequestBody))
	if err != nil {
		return err
	}
	req.Header = ex.RequestHeader.Clone()
	opts := &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		MultiError:         true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	ctx := context.Background()
	var errs []error
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		errs = append(errs, fmt.Errorf("request %s %s: %w", ex.Method, route.Path, err))
	}
	if ex.Status != 0 {
		rin := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 ex.Status,
			Header:                 ex.ResponseHeader,
			Body:                   io.NopCloser(bytes.NewReader(ex.ResponseBody)),
			Options:                opts,
		}
		if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
			errs = append(errs, fmt.Errorf("response %d to %s %s: %w", ex.Status, ex.Method, route.Path, err))
		}
	}
	return errors.Join(errs...)
}
