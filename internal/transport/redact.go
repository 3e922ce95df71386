package transport

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// sensitiveHeaders are the credential headers of the four platforms.
var sensitiveHeaders = []string{"Authorization", "X-Shopify-Access-Token", "X-Api-Key", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// sensitiveParams are query or form parameters that carry secrets.
var sensitiveParams = []string{"access_token", "code", "client_secret", "refresh_token", "id_token", "client_assertion", "api_key"}

var (
	paramRe  = regexp.MustCompile(`(?i)\b(` + strings.Join(sensitiveParams, "|") + `)=[^&\s"'<>]+`)
	headerRe = regexp.MustCompile(`(?i)\b(` + strings.Join(sensitiveHeaders, "|") + `)(["']?\s*[:=]\s*\[?["']?)(?:Bearer\s+|Basic\s+|Omnisend-API-Key\s+|Klaviyo-API-Key\s+)?[^\s"',\]]+`)
)

// maxSecrets bounds the registered secrets: a client that rotates
// short-lived tokens registers one per token, and the oldest (long expired)
// are dropped first.
const maxSecrets = 1024

// minSecretLen is the shortest registered secret that is replaced in free
// text: shorter strings would blank out ordinary words.
const minSecretLen = 6

// Redactor removes secrets from text bound for logs and error messages:
// credential headers, secret query parameters, and every secret registered
// with Add. It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// NewRedactor returns a Redactor that knows no secrets yet.
func NewRedactor() *Redactor { return &Redactor{} }

// Add registers secret values to be replaced wherever they appear.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
next:
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		for _, have := range r.secrets {
			if have == s {
				continue next
			}
		}
		if len(r.secrets) == maxSecrets {
			r.secrets = append(r.secrets[:0], r.secrets[1:]...)
		}
		r.secrets = append(r.secrets, s)
	}
}

// Remove forgets secret values, for example a revoked token.
func (r *Redactor) Remove(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = slices.DeleteFunc(r.secrets, func(have string) bool { return slices.Contains(secrets, have) })
}

// AddSecret registers s.
func (r *Redactor) AddSecret(s Secret) { r.Add(s.Reveal()) }

// String returns s with secrets replaced by [REDACTED].
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, sec := range r.secrets {
			if strings.Contains(s, sec) {
				s = strings.ReplaceAll(s, sec, Redacted)
			}
		}
		r.mu.RUnlock()
	}
	if strings.IndexByte(s, '=') >= 0 {
		s = paramRe.ReplaceAllString(s, "${1}="+Redacted)
	}
	s = headerRe.ReplaceAllString(s, "${1}${2}"+Redacted)
	return s
}

// URL returns u as a string with its password and secret parameters redacted.
func (r *Redactor) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return r.String(u.Redacted())
}

// Header returns a copy of h with credential headers redacted.
func (r *Redactor) Header(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		sensitive := false
		for _, name := range sensitiveHeaders {
			if strings.EqualFold(k, name) {
				sensitive = true
				break
			}
		}
		cp := make([]string, len(vs))
		for i, v := range vs {
			if sensitive {
				cp[i] = Redacted
			} else {
				cp[i] = r.String(v)
			}
		}
		out[k] = cp
	}
	return out
}

// Error wraps err so that its message is redacted; errors.Is and errors.As
// still see err.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*redactedError); ok {
		return err
	}
	return &redactedError{err: err, msg: r.String(err.Error())}
}

// plainJSON returns a JSON body with the escapes a string needs no longer
// spelled out: \u0073 as s, \/ as /. Platform packages decode error bodies
// after they were redacted, and a secret quoted with escapes would
// otherwise pass the redactor as text and come out of the decoder whole.
// Quotes, backslashes and control characters stay escaped, so the JSON
// decodes to the same values; anything not JSON is returned as is.
func plainJSON(b []byte) []byte {
	if !strings.Contains(string(b), `\`) || !json.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		switch b[i+1] {
		case '/':
			out = append(out, '/')
			i++
			continue
		case 'u':
			if i+6 <= len(b) {
				if n, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16); err == nil &&
					n >= 0x20 && n != '"' && n != '\\' && (n < 0xd800 || n > 0xdfff) {
					out = append(out, string(rune(n))...)
					i += 5
					continue
				}
			}
		}
		out = append(out, b[i], b[i+1]) // an escape kept as it is
		i++
	}
	return out
}
