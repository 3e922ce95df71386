package line_test

import (
	"testing"

	"github.com/shopcrm/shopcrm/line"
)

// FuzzParse checks that Parse never panics and that every event it returns
// has a base.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"destination":"U1","events":[]}`,
		`{"destination":"U1","events":[{"type":"follow","webhookEventId":"01H","timestamp":1,"follow":{"isUnblocked":true}}]}`,
		`{"events":[{"type":"message","message":{"type":"text","text":"hi"}},{"type":"x"},null,1,"s"]}`,
		`{"events":[{"type":"accountLink","link":{"result":"ok","nonce":"n"}}]}`,
		`{"events":null}`, `[]`, `"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := line.Parse(body)
		if err != nil {
			return
		}
		for _, e := range cb.Events {
			if e == nil || e.Base() == nil {
				t.Fatalf("nil event from %q", body)
			}
		}
		_ = line.Verify(body, line.Sign(body, line.NewSecret("secret")), line.NewSecret("secret"))
	})
}
