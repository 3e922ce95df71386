package shopify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// fastWait polls the fake's short-lived operations quickly.
var fastWait = shopify.WaitOptions{Interval: 5 * time.Millisecond}

func seedShop(srv *shopifytest.Server, customers, ordersEach int) {
	for i := range customers {
		id := srv.AddCustomer(shopifytest.Customer{FirstName: "C", Email: "c" + string(rune('a'+i%26)) + "@example.com", Tags: []string{"t"}})
		for range ordersEach {
			srv.AddOrder(shopifytest.Order{CustomerID: id, LineItems: []shopifytest.LineItem{
				{ProductID: 7, VariantID: 8, Title: "Tea", Quantity: 1, Price: money.MustParse("5.00", "USD")}}})
		}
	}
}

const customersWithOrders = `{ customers { edges { node { id tags orders { edges { node { id lineItemsCount: name } } } } } } }`

func TestBulkQueryReattachesChildren(t *testing.T) {
	srv, c := setup(t)
	seedShop(srv, 3, 2)
	ctx := context.Background()
	var got [][]string
	var started *shopify.BulkOperation
	for row, err := range c.Bulk.Query(ctx, customersWithOrders, &shopify.BulkQueryOptions{Wait: fastWait, Started: func(o *shopify.BulkOperation) { started = o }}) {
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{row.ID}
		for _, ch := range row.Children {
			if ch.ParentID != row.ID {
				t.Errorf("child %s has parent %s, under %s", ch.ID, ch.ParentID, row.ID)
			}
			ids = append(ids, ch.ID)
		}
		got = append(got, ids)
	}
	if started == nil || started.Status != shopify.BulkCreated || started.Type != shopify.BulkQuery {
		t.Fatalf("Started got %+v", started)
	}
	var want [][]string
	for _, cu := range srv.Customers() {
		ids := []string{cu.GID()}
		for _, o := range srv.Orders() {
			if o.CustomerID == cu.ID {
				ids = append(ids, o.GID())
			}
		}
		want = append(want, ids)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	op, _, err := c.Bulk.Current(ctx, shopify.BulkQuery)
	if err != nil || op.Status != shopify.BulkCompleted || op.ObjectCount != 9 || op.RootObjectCount != 3 || op.FileSize == 0 {
		t.Errorf("Current = %+v, %v", op, err)
	}
}

// TestBulkStorageGetsNoToken proves the result file is read from the
// storage host without the access token, and the API never sees the file.
func TestBulkStorageGetsNoToken(t *testing.T) {
	srv, c := setup(t)
	seedShop(srv, 2, 1)
	n := 0
	for _, err := range c.Bulk.Query(context.Background(), customersWithOrders, &shopify.BulkQueryOptions{Wait: fastWait}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	reqs := srv.StorageRequests()
	if n != 2 || len(reqs) != 1 {
		t.Fatalf("%d rows, %d storage requests", n, len(reqs))
	}
	for _, r := range reqs {
		for k, v := range r.Header {
			if strings.Contains(strings.ToLower(k), "shopify") || strings.Contains(strings.Join(v, ","), shopifytest.DefaultToken) {
				t.Errorf("storage request carries %s: %v", k, v)
			}
		}
	}
	if !strings.HasPrefix(srv.StorageURL(), "http://") || strings.HasPrefix(srv.StorageURL(), srv.URL()) {
		t.Errorf("storage host %s is not a host of its own beside %s", srv.StorageURL(), srv.URL())
	}
}

func TestBulkInProgressPerVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		allowed int
	}{{"2025-01", 1}, {"2025-10", 1}, {"2026-01", 5}, {"2026-07", 5}} {
		t.Run(tc.version, func(t *testing.T) {
			srv, _ := setup(t, shopifytest.WithBulkDuration(time.Hour))
			c := srv.Client(shopify.WithAPIVersion(tc.version))
			seedShop(srv, 1, 0)
			ctx := context.Background()
			for i := range tc.allowed {
				if _, _, err := c.Bulk.RunQuery(ctx, customersWithOrders); err != nil {
					t.Fatalf("query %d: %v", i+1, err)
				}
			}
			_, _, err := c.Bulk.RunQuery(ctx, customersWithOrders)
			var busy *shopify.BulkInProgressError
			if !errors.As(err, &busy) || !errors.Is(err, shopify.ErrConflict) || busy.Type != shopify.BulkQuery {
				t.Fatalf("query %d: %v, want a *BulkInProgressError", tc.allowed+1, err)
			}
			if got := shopify.MaxConcurrentBulkQueries(tc.version); got != tc.allowed {
				t.Errorf("MaxConcurrentBulkQueries(%s) = %d", tc.version, got)
			}
			// Bulk mutations follow the same rule (Shopify's bulk import
			// guide: five at a time from 2026-01).
			id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
			const add = `mutation tagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { message } } }`
			run := func() error {
				path, err := c.Bulk.StageUpload(ctx, "v.jsonl", []byte(`{"id":"`+id+`","tags":["a"]}`+"\n"))
				if err != nil {
					return err
				}
				_, _, err = c.Bulk.RunMutation(ctx, add, path)
				return err
			}
			for i := range tc.allowed {
				if err := run(); err != nil {
					t.Fatalf("mutation %d: %v", i+1, err)
				}
			}
			if err := run(); !errors.As(err, &busy) || busy.Type != shopify.BulkMutation {
				t.Fatalf("mutation %d: %v, want a *BulkInProgressError", tc.allowed+1, err)
			}
			if got := shopify.MaxConcurrentBulkMutations(tc.version); got != tc.allowed {
				t.Errorf("MaxConcurrentBulkMutations(%s) = %d", tc.version, got)
			}
		})
	}
}

func TestBulkWaitInProgressThenCancel(t *testing.T) {
	srv, c := setup(t, shopifytest.WithBulkDuration(time.Hour))
	c = srv.Client(shopify.WithAPIVersion("2025-01"))
	seedShop(srv, 1, 0)
	ctx := context.Background()
	first, _, err := c.Bulk.RunQuery(ctx, customersWithOrders)
	if err != nil {
		t.Fatal(err)
	}
	// A second query waits for the slot; cancelling the first frees it.
	go func() {
		time.Sleep(30 * time.Millisecond)
		if _, _, err := c.Bulk.Cancel(ctx, first.ID); err != nil {
			t.Error(err)
		}
	}()
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var second *shopify.BulkOperation
	for _, err := range c.Bulk.Query(ctx2, customersWithOrders, &shopify.BulkQueryOptions{WaitInProgress: true, Wait: fastWait,
		Started: func(o *shopify.BulkOperation) { second = o; cancel() }}) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want the cancellation that followed the start", err)
		}
	}
	if second == nil || second.ID == first.ID {
		t.Fatalf("second operation %+v", second)
	}
	_, err = c.Bulk.Wait(ctx, first.ID, &fastWait)
	var be *shopify.BulkOperationError
	if !errors.As(err, &be) || be.Operation.Status != shopify.BulkCanceling && be.Operation.Status != shopify.BulkCanceled {
		// CANCELING is not final: Wait returns once CANCELED.
		t.Fatalf("Wait on the cancelled operation: %v", err)
	}
}

func TestBulkFailedWithPartialData(t *testing.T) {
	for _, code := range []shopify.BulkErrorCode{shopify.BulkAccessDenied, shopify.BulkInternalServerError, shopify.BulkTimeout} {
		t.Run(string(code), func(t *testing.T) {
			srv, c := setup(t)
			seedShop(srv, 4, 1)
			srv.FailNextBulk(shopifytest.BulkFailure{ErrorCode: string(code), PartialLines: 4})
			var rows int
			var last error
			for _, err := range c.Bulk.Query(context.Background(), customersWithOrders, &shopify.BulkQueryOptions{Wait: fastWait, Partial: true}) {
				if err != nil {
					last = err
					continue
				}
				rows++
			}
			var be *shopify.BulkOperationError
			if !errors.As(last, &be) || be.Operation.ErrorCode != code || be.Operation.Status != shopify.BulkFailed {
				t.Fatalf("got %v", last)
			}
			if rows != 2 {
				t.Errorf("%d partial root rows, want 2 (4 lines: 2 customers with 1 order each)", rows)
			}
			if errors.Is(last, shopify.ErrUnauthorized) != (code == shopify.BulkAccessDenied) || errors.Is(last, shopify.ErrBulkTimeout) != (code == shopify.BulkTimeout) {
				t.Errorf("sentinels of %v wrong", last)
			}
		})
	}
}

func TestBulkQueryRefusedByFake(t *testing.T) {
	_, c := setup(t)
	for _, q := range []string{
		`{ shop { name } }`,
		`{ customers(first: 5) { pageInfo { hasNextPage } } }`,
		`{ customers { edges { node { id orders { edges { node { id lineItems { edges { node { id } } } } } } } } } }`,
	} {
		_, _, err := c.Bulk.RunQuery(context.Background(), q)
		var ue *shopify.UserErrors
		var ge *shopify.GraphQLErrors
		if !errors.As(err, &ue) && !errors.As(err, &ge) {
			t.Errorf("%s: got %v, want a refusal", q, err)
		}
	}
}

func TestBulkRowsIdleTimeout(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"gid://shopify/Customer/1"}` + "\n"))
		w.(http.Flusher).Flush()
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer hs.Close()
	srv, _ := setup(t)
	c := srv.Client(shopify.WithStorageIdleTimeout(50 * time.Millisecond))
	start := time.Now()
	var last error
	for _, err := range c.Bulk.Rows(context.Background(), hs.URL+"/f.jsonl") {
		last = err
	}
	var se *shopify.StorageError
	if !errors.As(last, &se) || !errors.Is(last, shopify.ErrStorageIdle) {
		t.Fatalf("got %v, want a *StorageError for the idle timeout", last)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestBulkWaitToldByWebhook waits for an operation with a poll interval of
// an hour: only the bulk_operations/finish webhook, sent by the fake
// through its webhook machinery and verified by WebhookHandler, can end
// the wait in time.
func TestBulkWaitToldByWebhook(t *testing.T) {
	finished := make(chan string, 4)
	hook := httptest.NewServer(&shopify.WebhookHandler{
		Secrets: []shopify.Secret{shopify.NewSecret(shopifytest.DefaultClientSecret)},
		Handle: func(ctx context.Context, w *shopify.Webhook) error {
			p, ok := w.Payload.(*shopify.BulkOperationFinishPayload)
			if !ok || p.Status != "completed" || p.Type != "query" || p.CompletedAt == nil {
				t.Errorf("payload %#v", w.Payload)
			}
			finished <- p.GID
			return nil
		},
	})
	defer hook.Close()
	srv, c := setup(t, shopifytest.WithBulkFinishWebhook(hook.URL))
	seedShop(srv, 2, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	op, _, err := c.Bulk.RunQuery(ctx, customersWithOrders)
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.Bulk.Wait(ctx, op.ID, &shopify.WaitOptions{Interval: time.Hour, Finished: finished, PollWithWebhook: time.Hour})
	if err != nil || done.Status != shopify.BulkCompleted || done.URL == "" {
		t.Fatalf("Wait = %+v, %v", done, err)
	}
}

// TestBulkWaitClosedWebhookChannel falls back to polling every Interval
// when the webhook channel is closed.
func TestBulkWaitClosedWebhookChannel(t *testing.T) {
	srv, c := setup(t)
	seedShop(srv, 1, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	op, _, err := c.Bulk.RunQuery(ctx, customersWithOrders)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string)
	close(ch)
	done, err := c.Bulk.Wait(ctx, op.ID, &shopify.WaitOptions{Interval: 5 * time.Millisecond, Finished: ch, PollWithWebhook: time.Hour})
	if err != nil || done.Status != shopify.BulkCompleted {
		t.Fatalf("Wait = %+v, %v", done, err)
	}
	if _, err := c.Bulk.Wait(ctx, "gid://shopify/Customer/1", nil); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("bad id: %v", err)
	}
	if _, _, err := c.Bulk.Get(ctx, "gid://shopify/BulkOperation/999999"); !errors.Is(err, shopify.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

// TestBulkRowsStorageErrors: a storage host that is down, a refused URL
// (an expired signature) and a cancelled context each end the stream
// with an error naming the cause, never the URL's signature.
func TestBulkRowsStorageErrors(t *testing.T) {
	_, c := setup(t)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + "/f.jsonl?X-Goog-Signature=secret-sig"
	down.Close()
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<Error><Code>ExpiredToken</Code></Error>", http.StatusForbidden)
	}))
	defer forbidden.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		url  string
		want func(error) bool
	}{
		{"down", context.Background(), downURL, func(err error) bool { return !errors.Is(err, context.Canceled) }},
		{"forbidden", context.Background(), forbidden.URL + "/f?X-Goog-Signature=secret-sig", func(err error) bool { return errors.Is(err, shopify.ErrUnauthorized) }},
		{"cancelled", cancelled, forbidden.URL + "/f?X-Goog-Signature=secret-sig", func(err error) bool { return errors.Is(err, context.Canceled) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := firstErr(c.Bulk.Rows(tc.ctx, tc.url))
			var se *shopify.StorageError
			if !errors.As(err, &se) || !tc.want(err) || strings.Contains(err.Error(), "secret-sig") {
				t.Errorf("got %v", err)
			}
		})
	}
}
