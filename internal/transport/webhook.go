package transport

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/shopcrm/shopcrm"
)

// ReadWebhook reads the raw body of a webhook delivery for the platforms'
// webhook handlers through shopcrm.ReadWebhookBody: only POST, at most
// limit bytes, or def when limit ≤ 0. It answers the refusal itself
// (RejectWebhook, which reports it to onError) and returns false then.
func ReadWebhook(w http.ResponseWriter, r *http.Request, platform string, limit, def int64, onError func(*http.Request, error)) ([]byte, bool) {
	if limit <= 0 {
		limit = def
	}
	body, err := shopcrm.ReadWebhookBody(platform, r, limit)
	if err != nil {
		RejectWebhook(w, r, err, onError)
		return nil, false
	}
	return body, true
}

// RejectWebhook answers a delivery a handler does not handle: with the
// status of a *shopcrm.WebhookError, 500 for any other error (a secret
// not configured, a dedupe store or the handler failing, so that the
// platform retries). It reports err to onError first, when set. The
// answer's text names the class of the refusal, never its details.
func RejectWebhook(w http.ResponseWriter, r *http.Request, err error, onError func(*http.Request, error)) {
	if onError != nil {
		onError(r, err)
	}
	st := http.StatusInternalServerError
	var we *shopcrm.WebhookError
	if errors.As(err, &we) && we.Status != 0 {
		st = we.Status
	}
	http.Error(w, http.StatusText(st), st)
}

// ReleaseWebhook forgets keys in store after handling failed, so that the
// platform's retry is handled again. It runs even when the request's
// context is done: the client going away must not leave the keys claimed.
func ReleaseWebhook(ctx context.Context, store shopcrm.DedupeStore, keys ...string) {
	for _, k := range keys {
		_ = store.Release(context.WithoutCancel(ctx), k)
	}
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
