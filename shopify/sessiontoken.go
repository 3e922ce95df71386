package shopify

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxSessionToken caps the length of a session token read; real ones are
// well under 1 KiB.
const maxSessionToken = 8 << 10

// ErrInvalidSessionToken matches every *SessionTokenError.
var ErrInvalidSessionToken = errors.New("shopify: invalid session token")

// SessionTokenCheck names the check a session token failed.
type SessionTokenCheck string

// The checks [App.VerifySessionToken] runs, in this order.
const (
	CheckFormat    SessionTokenCheck = "format"    // not three base64url parts of JSON
	CheckAlg       SessionTokenCheck = "alg"       // alg is not exactly HS256
	CheckSignature SessionTokenCheck = "signature" // the HMAC does not match
	CheckExpiry    SessionTokenCheck = "exp"       // missing or past (beyond the leeway)
	CheckNotBefore SessionTokenCheck = "nbf"       // not yet valid (beyond the leeway)
	CheckAudience  SessionTokenCheck = "aud"       // not the app's client id
	CheckDest      SessionTokenCheck = "dest"      // not https://name.myshopify.com
	CheckIssuer    SessionTokenCheck = "iss"       // not an https URL on dest's host
)

// SessionTokenError reports a session token that failed a check. It
// matches ErrInvalidSessionToken and never holds the token.
type SessionTokenError struct {
	Check  SessionTokenCheck
	Reason string
}

// Error describes the error.
func (e *SessionTokenError) Error() string {
	return "shopify: session token failed the " + string(e.Check) + " check: " + e.Reason
}

// Is matches ErrInvalidSessionToken.
func (e *SessionTokenError) Is(target error) bool { return target == ErrInvalidSessionToken }

// SessionToken holds the verified claims of an App Bridge session token.
type SessionToken struct {
	// Shop is the shop domain taken from dest, lower-cased.
	Shop string
	// UserID is sub: the Shopify user the token speaks for.
	UserID string
	// SessionID is sid.
	SessionID string
	// Issuer is iss, as sent (the shop's admin URL).
	Issuer string
	// ID is jti.
	ID        string
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf; zero when absent
	IssuedAt  time.Time // iat; zero when absent
}

type jwtHeader struct {
	Alg *string `json:"alg"`
}

type jwtClaims struct {
	Iss  string          `json:"iss"`
	Dest string          `json:"dest"`
	Aud  json.RawMessage `json:"aud"`
	Sub  string          `json:"sub"`
	Exp  *float64        `json:"exp"`
	Nbf  *float64        `json:"nbf"`
	Iat  *float64        `json:"iat"`
	Jti  string          `json:"jti"`
	Sid  string          `json:"sid"`
}

// VerifySessionToken checks a session token (the bearer token App Bridge
// sends; see [SessionTokenFromRequest]): a JWT whose header says alg HS256
// exactly (none and every other algorithm are refused), signed with
// HMAC-SHA256 keyed with the client secret (compared in constant time),
// with exp in the future and nbf in the past within the leeway, aud equal
// to the client id, dest https://name.myshopify.com, and iss an https URL
// on the same host as dest (Shopify's "the top-level domains under iss and
// dest match"; the shop's admin URL, https://name.myshopify.com/admin).
// The first failing check comes back as a *SessionTokenError.
func (a *App) VerifySessionToken(token Secret) (*SessionToken, error) {
	return verifySessionToken(token.Reveal(), a.verifySecrets(), a.clientID, a.cfg.now(), a.cfg.leeway)
}

func verifySessionToken(tok string, secrets []Secret, clientID string, now time.Time, leeway time.Duration) (*SessionToken, error) {
	bad := func(c SessionTokenCheck, reason string) (*SessionToken, error) {
		return nil, &SessionTokenError{Check: c, Reason: reason}
	}
	if len(tok) > maxSessionToken {
		return bad(CheckFormat, "longer than 8 KiB")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return bad(CheckFormat, "not three dot-separated parts")
	}
	var h jwtHeader
	if err := decodeJWTPart(parts[0], &h); err != nil {
		return bad(CheckFormat, "header: "+err.Error())
	}
	if h.Alg == nil {
		return bad(CheckAlg, "alg missing")
	}
	if *h.Alg != "HS256" {
		return bad(CheckAlg, "alg is not HS256")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return bad(CheckFormat, "signature is not base64url")
	}
	if matchHMAC(sig, []byte(parts[0]+"."+parts[1]), secrets) != nil {
		return bad(CheckSignature, "signature does not match")
	}
	var c jwtClaims
	if err := decodeJWTPart(parts[1], &c); err != nil {
		return bad(CheckFormat, "payload: "+err.Error())
	}
	exp, ok := unixTime(c.Exp)
	if !ok {
		return bad(CheckExpiry, "exp missing or not a number")
	}
	if !now.Before(exp.Add(leeway)) {
		return bad(CheckExpiry, "expired")
	}
	nbf, ok := unixTime(c.Nbf)
	if c.Nbf != nil && !ok {
		return bad(CheckNotBefore, "nbf not a number")
	}
	if ok && now.Add(leeway).Before(nbf) {
		return bad(CheckNotBefore, "not valid yet")
	}
	if !audienceHas(c.Aud, clientID) {
		return bad(CheckAudience, "not the app's client id")
	}
	host, found := strings.CutPrefix(c.Dest, "https://")
	if !found || !installShopRe.MatchString(host) {
		return bad(CheckDest, "not https://name.myshopify.com")
	}
	if iss, err := url.Parse(c.Iss); err != nil || iss.Scheme != "https" || iss.User != nil || iss.Port() != "" || !strings.EqualFold(iss.Host, host) {
		return bad(CheckIssuer, "not an https URL on the host of dest")
	}
	iat, _ := unixTime(c.Iat)
	return &SessionToken{
		Shop:      strings.ToLower(host),
		UserID:    c.Sub,
		SessionID: c.Sid,
		Issuer:    c.Iss,
		ID:        c.Jti,
		ExpiresAt: exp,
		NotBefore: nbf,
		IssuedAt:  iat,
	}, nil
}

// decodeJWTPart decodes one base64url (unpadded) part holding a JSON object.
func decodeJWTPart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return errors.New("not base64url")
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("not a JSON object of the expected shape")
	}
	return nil
}

// unixTime converts a NumericDate (seconds, possibly fractional).
func unixTime(f *float64) (time.Time, bool) {
	if f == nil || math.IsNaN(*f) || math.IsInf(*f, 0) || *f < 0 || *f > 1<<40 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(*f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// audienceHas reports whether aud (a string or an array of strings) holds
// want.
func audienceHas(aud json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(aud, &one) == nil {
		return one != "" && hmac.Equal([]byte(one), []byte(want))
	}
	var many []string
	if json.Unmarshal(aud, &many) == nil {
		for _, s := range many {
			if s == want {
				return true
			}
		}
	}
	return false
}

// SessionTokenFromRequest returns the bearer token of r's Authorization
// header, where App Bridge puts the session token.
func SessionTokenFromRequest(r *http.Request) (Secret, bool) {
	v := r.Header.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "Bearer ") {
		return Secret{}, false
	}
	tok := strings.TrimSpace(v[7:])
	return NewSecret(tok), tok != ""
}
