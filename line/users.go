package line

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/pager"
)

// Quota is the monthly message quota.
type Quota struct {
	Type  string `json:"type"`            // "none" (unlimited) or "limited"
	Value *int64 `json:"value,omitempty"` // set when limited
}

// Quota reads the monthly message quota.
func (s *MessagesService) Quota(ctx context.Context) (*Quota, *Response, error) {
	var q Quota
	resp, err := s.c.do(ctx, &call{class: EndpointOther, method: http.MethodGet, path: "/v2/bot/message/quota", retry: idempotent, out: &q})
	if err != nil {
		return nil, resp, err
	}
	return &q, resp, nil
}

// Consumption reads how many messages were sent this month.
func (s *MessagesService) Consumption(ctx context.Context) (int64, *Response, error) {
	var out struct {
		TotalUsage int64 `json:"totalUsage"`
	}
	resp, err := s.c.do(ctx, &call{class: EndpointOther, method: http.MethodGet, path: "/v2/bot/message/quota/consumption", retry: idempotent, out: &out})
	if err != nil {
		return 0, resp, err
	}
	return out.TotalUsage, resp, nil
}

// ValidUserID reports whether s has the form of a LINE user id: "U"
// followed by 32 lowercase hexadecimal digits. A user id is scoped to the
// LINE provider; the same person has another id under another provider.
//
// The client passes user ids through as given (LINE answers a malformed one
// with 400); use ValidUserID to check ids from another system before a
// send.
func ValidUserID(s string) bool {
	if len(s) != 33 || s[0] != 'U' {
		return false
	}
	for _, c := range s[1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// UsersService reads the account's friends and their profiles, and links
// their LINE accounts to accounts of the caller's service.
type UsersService struct{ c *Client }

// Profile is a user's profile.
type Profile struct {
	DisplayName   string `json:"displayName"`
	UserID        string `json:"userId"`
	PictureURL    string `json:"pictureUrl,omitempty"`
	StatusMessage string `json:"statusMessage,omitempty"`
	Language      string `json:"language,omitempty"`
}

// Profile reads a user's profile; a user who is not a friend is ErrNotFound.
func (s *UsersService) Profile(ctx context.Context, userID string) (*Profile, *Response, error) {
	if userID == "" {
		return nil, nil, invalid("userID", "empty")
	}
	var p Profile
	resp, err := s.c.do(ctx, &call{class: EndpointOther, method: http.MethodGet, path: "/v2/bot/profile/" + url.PathEscape(userID), retry: idempotent, out: &p})
	if err != nil {
		return nil, resp, err
	}
	if p.UserID == "" {
		return nil, resp, &shopcrm.ResponseError{Op: "GET /v2/bot/profile", Reason: "no userId in the answer"}
	}
	return &p, resp, nil
}

// Followers lists the user ids of the account's friends, 1,000 per request.
func (s *UsersService) Followers(ctx context.Context) iter.Seq2[string, error] {
	return pager.Seq(ctx, s.c, func(ctx context.Context, c *Client, start string) ([]string, string, bool, error) {
		q := url.Values{"limit": {"1000"}}
		if start != "" {
			q.Set("start", start)
		}
		var out struct {
			UserIDs []string `json:"userIds"`
			Next    string   `json:"next"`
		}
		_, err := c.do(ctx, &call{class: EndpointOther, method: http.MethodGet, path: "/v2/bot/followers/ids", query: q, retry: idempotent, out: &out})
		return out.UserIDs, out.Next, out.Next != "", err
	})
}

// IssueLinkToken issues a link token for linking userID to an account of
// the caller's service.
func (s *UsersService) IssueLinkToken(ctx context.Context, userID string) (string, *Response, error) {
	if userID == "" {
		return "", nil, invalid("userID", "empty")
	}
	var out struct {
		LinkToken string `json:"linkToken"`
	}
	resp, err := s.c.do(ctx, &call{class: EndpointOther, method: http.MethodPost, path: "/v2/bot/user/" + url.PathEscape(userID) + "/linkToken", out: &out})
	if err != nil {
		return "", resp, err
	}
	return out.LinkToken, resp, nil
}

// DefaultAccountLinkURL is where users are sent to confirm an account link.
// LINE's account-linking guide gives this address; it is not in the
// OpenAPI files, so AccountLinkURL takes it as a parameter defaulting to
// this value.
const DefaultAccountLinkURL = "https://access.line.me/dialog/bot/accountLink"

// The lengths LINE's account-linking guide allows for a nonce, in
// characters.
const (
	MinNonceLength = 10
	MaxNonceLength = 255
)

// AccountLinkURL builds the address that completes an account link: base
// (DefaultAccountLinkURL when empty) with linkToken and nonce. LINE's
// account-linking guide documents this address; a link token is valid for
// 10 minutes and once. The nonce must be unguessable and single-use, of
// MinNonceLength to MaxNonceLength characters (LINE recommends at least
// 128 random bits, Base64-encoded); it comes back in the accountLink
// webhook event.
func AccountLinkURL(base, linkToken, nonce string) (string, error) {
	if base == "" {
		base = DefaultAccountLinkURL
	}
	if linkToken == "" {
		return "", invalid("linkToken", "empty")
	}
	if n := utf8.RuneCountInString(nonce); n < MinNonceLength || n > MaxNonceLength {
		return "", invalid("nonce", "%d characters, LINE takes %d to %d", n, MinNonceLength, MaxNonceLength)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", invalid("base", "%q is not an absolute http(s) URL", base)
	}
	q := u.Query()
	q.Set("linkToken", linkToken)
	q.Set("nonce", nonce)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
