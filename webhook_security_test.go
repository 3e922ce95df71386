package shopcrm_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm"
)

// TestReadWebhookBody: the cap, the method, a body cut short, each as a
// *WebhookError with the status a handler answers.
func TestReadWebhookBody(t *testing.T) {
	req := func(method, body string, cl int64) *http.Request {
		r := httptest.NewRequest(method, "/hook", strings.NewReader(body))
		r.ContentLength = cl
		return r
	}
	cut := httptest.NewRequest(http.MethodPost, "/hook", io.MultiReader(strings.NewReader("{"), errReader{}))
	for name, c := range map[string]struct {
		r      *http.Request
		want   error
		status int
	}{
		"over the cap":                {req(http.MethodPost, "12345", 5), shopcrm.ErrBodyTooLarge, 413},
		"over the cap, chunked":       {req(http.MethodPost, "12345", -1), shopcrm.ErrBodyTooLarge, 413},
		"Content-Length over it":      {req(http.MethodPost, "", 1<<30), shopcrm.ErrBodyTooLarge, 413},
		"GET":                         {req(http.MethodGet, "", 0), shopcrm.ErrMalformedWebhook, 405},
		"cut short by the connection": {cut, shopcrm.ErrMalformedWebhook, 400},
	} {
		_, err := shopcrm.ReadWebhookBody("test", c.r, 4)
		var we *shopcrm.WebhookError
		if !errors.Is(err, c.want) || !errors.As(err, &we) || we.Status != c.status || we.Platform != "test" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if b, err := shopcrm.ReadWebhookBody("test", req(http.MethodPost, "1234", 4), 4); err != nil || string(b) != "1234" {
		t.Errorf("a body of the cap: %q %v", b, err)
	}
	if _, err := shopcrm.ReadWebhookBody("test", req(http.MethodPost, "", 0), 0); !errors.Is(err, shopcrm.ErrInvalidInput) {
		t.Errorf("no cap: %v", err)
	}
	var bt *shopcrm.BodyTooLargeError
	if _, err := shopcrm.ReadWebhookBody("test", req(http.MethodPost, "12345", -1), 4); !errors.As(err, &bt) || bt.Limit != 4 {
		t.Errorf("BodyTooLargeError: %v", err)
	}
}

// TestNewWebhookError: the status follows the cause.
func TestNewWebhookError(t *testing.T) {
	for cause, status := range map[error]int{
		shopcrm.ErrInvalidSignature:           401,
		shopcrm.ErrStaleWebhook:               401,
		shopcrm.ErrMalformedWebhook:           400,
		&shopcrm.BodyTooLargeError{Limit: 10}: 413,
	} {
		e := shopcrm.NewWebhookError("p", cause, "why")
		if e.Status != status || !errors.Is(e, cause) || !strings.HasPrefix(e.Error(), "p: webhook refused: ") {
			t.Errorf("%v: %d %q", cause, e.Status, e)
		}
	}
	ce := &shopcrm.CallbackError{Platform: "p", Check: "state", Reason: "r"}
	if !errors.Is(ce, shopcrm.ErrInvalidCallback) || ce.Error() != "p: OAuth callback failed the state check: r" {
		t.Errorf("%v", ce)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// A webhook endpoint that reads its body itself: through a cap, with the
// refusal as a typed error carrying the status to answer.
func ExampleReadWebhookBody() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := shopcrm.ReadWebhookBody("myapp", r, 16)
		if we := (*shopcrm.WebhookError)(nil); errors.As(err, &we) {
			fmt.Println(we)
			http.Error(w, http.StatusText(we.Status), we.Status)
			return
		}
		fmt.Printf("read %d bytes\n", len(body))
	})
	for _, body := range []string{`{"ok":true}`, strings.Repeat("x", 1000)} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body)))
		fmt.Println(w.Code)
	}
	// Output:
	// read 11 bytes
	// 200
	// myapp: webhook refused: body too large: more than 16 bytes: Content-Length 1000
	// 413
}
