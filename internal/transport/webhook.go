package transport

import (
	"io"
	"net/http"
	"sync"

	"github.com/shopcrm/shopcrm"
)

// ReadWebhookBody reads the raw body of a webhook delivery for the
// platforms' webhook handlers: only POST (405 otherwise), at most limit
// bytes, or def when limit ≤ 0 (413 beyond). It answers the error itself
// and returns false then.
func ReadWebhookBody(w http.ResponseWriter, r *http.Request, limit, def int64) ([]byte, bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	if limit <= 0 {
		limit = def
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil, false
	}
	if int64(len(body)) > limit {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	return body, true
}

// DefaultDedupe is a webhook handler's fallback dedupe store: an
// in-process shopcrm.MemoryDedupe made on first use. The zero value is
// ready.
type DefaultDedupe struct {
	once sync.Once
	mem  *shopcrm.MemoryDedupe
}

// Or returns given when it is set, the memory store otherwise.
func (d *DefaultDedupe) Or(given shopcrm.DedupeStore) shopcrm.DedupeStore {
	if given != nil {
		return given
	}
	d.once.Do(func() { d.mem = shopcrm.NewMemoryDedupe(0, 0) })
	return d.mem
}
