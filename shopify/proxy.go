package shopify

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultProxyMaxAge is how far the timestamp of an app proxy request may
// be from now (either way) for VerifyProxy. Shopify stamps the request when
// it forwards it and documents no window, so this is the SDK's choice:
// enough for clock skew and a slow forward, short enough to limit replays.
// ProxyVerifier.MaxAge changes it.
const DefaultProxyMaxAge = 5 * time.Minute

// ProxyVerifier checks requests Shopify forwards through an app proxy.
// The zero value is not usable: Secrets must hold the app's client secret.
type ProxyVerifier struct {
	Secrets []Secret // the app's client secret; two during a rotation
	// MaxAge bounds |now - timestamp|: DefaultProxyMaxAge when 0, no
	// check when negative.
	MaxAge time.Duration
	Now    func() time.Time // time.Now when nil
}

// VerifyProxy checks an app proxy request's query with one client secret
// and DefaultProxyMaxAge; see [ProxyVerifier.Verify].
func VerifyProxy(query url.Values, secret Secret) error {
	return (&ProxyVerifier{Secrets: []Secret{secret}}).Verify(query)
}

// Verify checks the signature parameter of an app proxy request's
// (decoded) query: lowercase hex of HMAC-SHA256(client secret, message),
// where the message is every other parameter as key=value, the values of a
// repeated key joined by commas, sorted and concatenated without
// separators. The comparison is constant-time. It then checks that the
// timestamp parameter (Unix seconds) is within MaxAge of now.
//
// It returns an *InputError when no usable secret is given, an error
// matching ErrInvalidSignature when the signature is missing or wrong, and
// an error matching ErrStaleRequest when the timestamp is missing, not a
// number or out of the window.
func (v *ProxyVerifier) Verify(query url.Values) error {
	if !hasSecret(v.Secrets) {
		return &InputError{Field: "secrets", Reason: "at least one client secret is needed"}
	}
	sig := query["signature"]
	if len(sig) != 1 {
		return fmt.Errorf("%w: want one signature parameter, got %d", ErrInvalidSignature, len(sig))
	}
	got, err := hex.DecodeString(sig[0])
	if err != nil || len(got) != 32 {
		return fmt.Errorf("%w: signature is not hex of 32 bytes", ErrInvalidSignature)
	}
	if err := matchHMAC(got, proxyMessage(query), v.Secrets); err != nil {
		return err
	}
	maxAge := v.MaxAge
	if maxAge == 0 {
		maxAge = DefaultProxyMaxAge
	}
	if maxAge < 0 {
		return nil
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	ts, err := strconv.ParseInt(query.Get("timestamp"), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp parameter missing or not a number", ErrStaleRequest)
	}
	if d := now().Sub(time.Unix(ts, 0)); d > maxAge || d < -maxAge {
		return fmt.Errorf("%w: timestamp is %s from now, more than %s", ErrStaleRequest, d.Round(time.Second), maxAge)
	}
	return nil
}

// SignProxy returns the signature parameter Shopify adds to an app proxy
// request with query (any signature in it is ignored). It is what
// ProxyVerifier checks; tests use it to forge valid requests.
func SignProxy(query url.Values, secret Secret) string {
	return hex.EncodeToString(hmacSHA256(proxyMessage(query), secret))
}

func proxyMessage(query url.Values) []byte {
	parts := make([]string, 0, len(query))
	for k, vs := range query {
		if k == "signature" {
			continue
		}
		parts = append(parts, k+"="+strings.Join(vs, ","))
	}
	slices.Sort(parts)
	return []byte(strings.Join(parts, ""))
}
