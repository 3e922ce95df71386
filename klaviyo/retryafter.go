package klaviyo

import (
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// availableRe finds the wait in a throttled answer's detail: "Request was
// throttled. Expected available in 56 seconds." (older APIs wrote "56.0").
var availableRe = regexp.MustCompile(`Expected available in (\d+(?:\.\d+)?) seconds?`)

// retryAfter reads the wait a non-2xx answer asks for. Klaviyo documents
// Retry-After on a 429, but a throttled answer recorded in a user's report
// to the official Python SDK carried none, only the wait in the error's
// detail; that detail is read when the header is missing.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if d, ok := transport.RetryAfter(resp, now); ok || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		return d, ok
	}
	var body struct {
		Errors []struct {
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(transport.ReadErrorBody(resp), &body) != nil {
		return 0, false
	}
	for _, e := range body.Errors {
		m := availableRe.FindStringSubmatch(e.Detail)
		if m == nil {
			continue
		}
		if s, err := strconv.ParseFloat(m[1], 64); err == nil {
			return time.Duration(math.Ceil(min(s, 365*24*3600))) * time.Second, true
		}
	}
	return 0, false
}
