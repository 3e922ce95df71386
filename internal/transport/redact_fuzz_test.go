package transport

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzPlainJSON checks the rewriting of error bodies before redaction
// (seeds in testdata/fuzz/FuzzPlainJSON: the platforms' error bodies with
// escapes): valid JSON stays valid and decodes to the same value, anything
// else is left alone, and a secret the body spells with escapes is
// redacted once the body has been rewritten.
func FuzzPlainJSON(f *testing.F) {
	f.Add([]byte(`{"errors":"Invalid token \u0073hpat_0123456789abcdef"}`))
	const secret = "shpat_0123456789abcdef"
	red := NewRedactor()
	red.Add(secret)
	f.Fuzz(func(t *testing.T, b []byte) {
		out := plainJSON(b)
		if !json.Valid(b) {
			if string(out) != string(b) {
				t.Fatalf("%q is not JSON but was rewritten to %q", b, out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%q rewritten to invalid %q", b, out)
		}
		var want, got any
		if json.Unmarshal(b, &want) != nil || json.Unmarshal(out, &got) != nil || !reflect.DeepEqual(want, got) {
			t.Fatalf("%q decodes to %v, rewritten %q to %v", b, want, out, got)
		}
		var decoded any
		if json.Unmarshal([]byte(red.String(string(out))), &decoded) == nil && strings.Contains(flatten(decoded), secret) {
			t.Fatalf("the secret survives redaction of %q", b)
		}
	})
}

// flatten writes every string of a decoded JSON value, keys included.
func flatten(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\x00")
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				b.WriteString(k + "\x00")
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}
