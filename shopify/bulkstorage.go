package shopify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Defaults of the storage path: the result files of bulk operations and
// the staged uploads of bulk mutations live on a storage host, not on the
// shop, and may be many gigabytes, so they are read and written without
// the API's total timeout and body cap. Instead a transfer fails when no
// byte moves for DefaultStorageIdleTimeout. [WithStorageIdleTimeout] and
// [WithStorageHTTPClient] override them.
const (
	DefaultStorageIdleTimeout = 60 * time.Second
	// DefaultMaxBulkLine bounds one line of a JSONL file (one object);
	// a longer line is an error rather than unbounded memory.
	DefaultMaxBulkLine = 16 << 20
)

// WithStorageHTTPClient uses hc to read bulk results and write staged
// uploads. It gets no Shopify credential, whatever it is; its Timeout
// should be zero (a large file takes long), the idle timeout guarding
// against a stalled transfer instead.
func WithStorageHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return &InputError{Field: "WithStorageHTTPClient", Reason: "must not be nil"}
		}
		c.storage = hc
		return nil
	}
}

// WithStorageIdleTimeout sets how long a bulk result download or staged
// upload may go without moving a byte (default
// [DefaultStorageIdleTimeout]).
func WithStorageIdleTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return &InputError{Field: "WithStorageIdleTimeout", Value: d.String(), Reason: "must be positive"}
		}
		c.storageIdle = d
		return nil
	}
}

// WithMaxBulkLine bounds one line of a bulk result file (default
// [DefaultMaxBulkLine]).
func WithMaxBulkLine(n int) Option {
	return func(c *config) error {
		if n < 1<<10 {
			return &InputError{Field: "WithMaxBulkLine", Value: strconv.Itoa(n), Reason: "must be at least 1024 bytes"}
		}
		c.maxBulkLine = n
		return nil
	}
}

// newStorageClient is the default client of the storage path: no total
// timeout, a dial and response-header timeout, redirects followed (the
// request carries no credential to leak).
func newStorageClient(idle time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = idle
	return &http.Client{Transport: tr}
}

// StorageError is a failed transfer to or from a storage host: a non-2xx
// answer (Status) or a transfer that stalled or broke (Err). It never
// holds the URL's query, which carries the storage host's signature. A
// 403 or 404 matches ErrUnauthorized or ErrNotFound (an expired result
// URL answers one of them).
type StorageError struct {
	Op     string // "download" or "upload"
	Host   string
	Status int    // 0 when no answer came
	Body   string // the start of the answer, for a non-2xx status
	Err    error
}

// Error describes the error.
func (e *StorageError) Error() string {
	s := "shopify: storage " + e.Op + " (" + e.Host + ")"
	if e.Status != 0 {
		s += ": HTTP " + strconv.Itoa(e.Status)
		if e.Body != "" {
			s += ": " + e.Body
		}
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the transfer error.
func (e *StorageError) Unwrap() error { return e.Err }

// Is matches ErrUnauthorized for 401/403 and ErrNotFound for 404.
func (e *StorageError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	}
	return false
}

// ErrStorageIdle is the cause of a transfer that moved no byte for the
// idle timeout.
var ErrStorageIdle = errors.New("no data moved for the idle timeout")

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "?"
}

// idleBody cancels its request when no byte arrives for d.
type idleBody struct {
	io.ReadCloser
	t *time.Timer
	d time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.t.Reset(b.d)
	}
	return n, err
}

// storageDo sends req on the storage path with the idle watchdog running
// until the returned body is closed. No header of the API client goes with
// it.
func (c *Client) storageDo(ctx context.Context, op string, build func(ctx context.Context) (*http.Request, error)) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(c.storageIdle, func() { cancel(ErrStorageIdle) })
	req, err := build(ctx)
	if err != nil {
		t.Stop()
		cancel(nil)
		return nil, err
	}
	host := req.URL.Host
	req.Header.Set("User-Agent", "shopcrm-go (storage)")
	resp, err := c.storage.Do(req)
	if err != nil {
		t.Stop()
		cause := context.Cause(ctx) // set when the idle timer or the caller ended it
		cancel(nil)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the signature
		}
		if cause != nil {
			err = cause
		}
		return nil, &StorageError{Op: op, Host: host, Err: err}
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		t.Stop()
		cancel(nil)
		return nil, &StorageError{Op: op, Host: host, Status: resp.StatusCode, Body: string(bytes.TrimSpace(b))}
	}
	t.Reset(c.storageIdle)
	resp.Body = &idleBody{ReadCloser: closer{resp.Body, func() { t.Stop(); cancel(nil) }}, t: t, d: c.storageIdle}
	return resp, nil
}

type closer struct {
	io.ReadCloser
	done func()
}

func (c closer) Close() error { err := c.ReadCloser.Close(); c.done(); return err }

// storageCause prefers the caller's cancellation, then the idle timeout,
// over the transport's wording of them.
func storageCause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) {
		return ErrStorageIdle
	}
	return err
}

func checkStorageURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &InputError{Field: field, Reason: "must be an absolute http or https URL"}
	}
	return nil
}
