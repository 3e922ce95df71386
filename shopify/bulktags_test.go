package shopify_test

import (
	"bytes"
	"context"
	"errors"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

var fastBulk = &shopify.BulkApplyOptions{Wait: fastWait}

// bulkChanges is a mix: plain adds and removes, a resource changed three
// times (add x, remove x, add x: x must end up there), an invalid change
// and one Shopify refuses (a 251st tag).
func bulkChanges(srv *shopifytest.Server) []tagging.Change {
	a := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "A", Tags: []string{"old"}}))
	b := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "B"}))
	full := make([]string, shopifytest.MaxTags)
	for i := range full {
		full[i] = "t" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	f := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "F", Tags: full}))
	o := shopify.OrderGID(srv.AddOrder(shopifytest.Order{}))
	return []tagging.Change{
		{ID: a, Add: []string{"vip", "x"}, Remove: []string{"old"}},
		{ID: b, Add: []string{"new"}},
		{ID: a, Remove: []string{"x"}},
		{ID: "gid://shopify/Customer/oops", Add: []string{"y"}},
		{ID: o, Add: []string{"subscription-count:2"}},
		{ID: a, Add: []string{"x"}},
		{ID: f, Add: []string{"one-too-many"}},
	}
}

func TestApplyBulkMatchesApply(t *testing.T) {
	srvA, cA := setup(t)
	srvB, cB := setup(t)
	chA, chB := bulkChanges(srvA), bulkChanges(srvB)
	ctx := context.Background()
	want, err := cA.Tags.Apply(ctx, chA, nil)
	if err != nil {
		t.Fatal(err)
	}
	var progs []shopcrm.Progress
	got, err := cB.Tags.ApplyBulk(ctx, chB, &shopify.BulkApplyOptions{Wait: fastWait, Progress: func(p shopcrm.Progress) { progs = append(progs, p) }})
	if err != nil {
		t.Fatal(err)
	}
	// After each of the four operations, then at the end; the first
	// change (a removal and an addition) is decided by the second round,
	// the later changes to the same customer by the third and fourth.
	wantProg := []shopcrm.Progress{
		{Seen: 7, Failed: 1, Chunks: 1},
		{Seen: 7, Applied: 3, Failed: 2, Chunks: 2},
		{Seen: 7, Applied: 4, Failed: 2, Chunks: 3},
		{Seen: 7, Applied: 5, Failed: 2, Chunks: 4},
		{Seen: 7, Applied: 5, Failed: 2, Chunks: 4},
	}
	if d := cmp.Diff(wantProg, progs); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	outcomes := func(rs []shopify.ChangeResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID+" "+r.Outcome.String())
		}
		return out
	}
	if d := cmp.Diff(outcomes(want), outcomes(got)); d != "" {
		t.Errorf("outcomes (-Apply +ApplyBulk):\n%s", d)
	}
	var ue *shopify.UserErrors
	if !errors.As(got[6].Err, &ue) || !errors.Is(got[3].Err, shopify.ErrInvalidInput) {
		t.Errorf("errors: %v / %v", got[6].Err, got[3].Err)
	}
	for _, c := range srvA.Customers() {
		if d := cmp.Diff(srvA.CustomerTags(c.ID), srvB.CustomerTags(c.ID)); d != "" {
			t.Errorf("customer %d tags (-Apply +ApplyBulk):\n%s", c.ID, d)
		}
	}
	if tags := srvB.CustomerTags(srvB.Customers()[0].ID); !slices.Contains(tags, "x") || slices.Contains(tags, "old") {
		t.Errorf("changes to one customer out of order: %v", tags)
	}
	// Removals and additions ran as separate operations, alternating, one
	// mutation type each: a customer changed three times took four rounds.
	var types []string
	for _, op := range srvB.BulkOperations() {
		types = append(types, op.Type+" "+strings.Split(strings.Fields(op.Query)[1], "(")[0])
	}
	if d := cmp.Diff([]string{"MUTATION tagsRemove", "MUTATION tagsAdd", "MUTATION tagsRemove", "MUTATION tagsAdd"}, types); d != "" {
		t.Errorf("operations (-want +got):\n%s", d)
	}
	if n := srvB.OpCount("tagsAdd") + srvB.OpCount("tagsRemove"); n != 7 {
		t.Errorf("%d tag mutations ran, want 7", n)
	}
	// Uploads and result downloads went to the storage host without the
	// access token.
	var methods []string
	for _, r := range srvB.StorageRequests() {
		methods = append(methods, r.Method)
		for k, v := range r.Header {
			if strings.Contains(strings.ToLower(k), "shopify") || strings.Contains(strings.Join(v, ","), shopifytest.DefaultToken) {
				t.Errorf("storage request carries %s: %v", k, v)
			}
		}
	}
	if d := cmp.Diff([]string{"POST", "GET", "POST", "GET", "POST", "GET", "POST", "GET"}, methods); d != "" {
		t.Errorf("storage requests (-want +got):\n%s", d)
	}
}

func TestApplyBulkSplitsFiles(t *testing.T) {
	srv, c := setup(t)
	var changes []tagging.Change
	for range 30 {
		changes = append(changes, tagging.Change{ID: shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "C"})), Add: []string{"vip"}})
	}
	res, err := c.Tags.ApplyBulk(context.Background(), changes, &shopify.BulkApplyOptions{Wait: fastWait, MaxFileSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Applied {
			t.Fatalf("%+v", r)
		}
	}
	// 30 lines of about 50 bytes in files of at most 500 bytes.
	if n := len(srv.BulkOperations()); n < 3 {
		t.Errorf("%d operations, want the file split", n)
	}
}

func TestApplyBulkFailedOperation(t *testing.T) {
	srv, c := setup(t)
	var changes []tagging.Change
	for range 4 {
		changes = append(changes, tagging.Change{ID: shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "C", Tags: []string{"old"}})),
			Add: []string{"vip"}, Remove: []string{"old"}})
	}
	srv.FailNextBulk(shopifytest.BulkFailure{ErrorCode: "TIMEOUT", PartialLines: 2})
	res, err := c.Tags.ApplyBulk(context.Background(), changes, fastBulk)
	if !errors.Is(err, shopify.ErrBulkTimeout) {
		t.Fatalf("got %v, want the 24-hour limit's TIMEOUT", err)
	}
	// The removals' operation failed after two lines: those ran, the
	// other two are unknown, and no addition was sent.
	var got []shopcrm.Outcome
	for _, r := range res {
		got = append(got, r.Outcome)
		if r.Applied || r.Err == nil {
			t.Errorf("%+v", r)
		}
	}
	if d := cmp.Diff([]shopcrm.Outcome{shopcrm.NotSent, shopcrm.NotSent, shopcrm.Unknown, shopcrm.Unknown}, got); d != "" {
		t.Errorf("outcomes (-want +got):\n%s", d)
	}
	if tags := srv.CustomerTags(srv.Customers()[0].ID); len(tags) != 0 {
		t.Errorf("first customer's tags %v: its removal ran before the failure", tags)
	}
	if n := len(srv.BulkOperations()); n != 1 {
		t.Errorf("%d operations: the additions must not run after the removals failed", n)
	}
}

func TestApplyAutoThreshold(t *testing.T) {
	srv, _ := setup(t)
	c := srv.Client(shopify.WithBulkTagThreshold(2))
	var changes []tagging.Change
	for range 3 {
		changes = append(changes, tagging.Change{ID: shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "C"})), Add: []string{"vip"}})
	}
	ctx := context.Background()
	if _, err := c.Tags.ApplyAuto(ctx, changes[:2], nil); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.BulkOperations()); n != 0 {
		t.Fatalf("%d bulk operations at the threshold", n)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	res, err := c.Tags.ApplyAuto(ctx2, changes, nil)
	if !errors.Is(err, context.Canceled) || res[0].Outcome != shopcrm.NotSent {
		t.Fatalf("above the threshold with a cancelled context: %v %+v", err, res)
	}
}

func TestBulkMutationRules(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "C"}))
	path, err := c.Bulk.StageUpload(ctx, "v.jsonl", []byte(`{"id":"`+id+`","tags":["a"]}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ doc, code string }{
		{`mutation m($id: ID!, $tags: [String!]!) { a: tagsAdd(id: $id, tags: $tags) { userErrors { message } } b: tagsRemove(id: $id, tags: $tags) { userErrors { message } } }`, "INVALID_MUTATION"},
		{`query { customers(first: 1) { nodes { id } } }`, "INVALID_MUTATION"},
	} {
		_, _, err := c.Bulk.RunMutation(ctx, tc.doc, path)
		var ue *shopify.UserErrors
		if !errors.As(err, &ue) || ue.Errors[0].Code != tc.code {
			t.Errorf("%s: got %v, want %s", tc.doc, err, tc.code)
		}
	}
	if _, _, err := c.Bulk.RunMutation(ctx, `mutation tagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { message } } }`, "tmp/nope"); err == nil || !strings.Contains(err.Error(), "could not be found") {
		t.Errorf("unknown staged path: %v", err)
	}
	big := bytes.Repeat([]byte(`{"id":"`+id+`","tags":["a"]}`+"\n"), shopify.MaxStagedUploadSize/40+1)
	if _, err := c.Bulk.StageUpload(ctx, "big.jsonl", big); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("oversized file: %v, want an *InputError before sending", err)
	}
}

// TestStorageRefusesLargeUpload posts a file past 20,971,520 bytes to the
// fake's storage host directly: it answers EntityTooLarge, as Shopify's.
func TestStorageRefusesLargeUpload(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	var out struct {
		P struct {
			Targets []struct {
				URL        string
				Parameters []struct{ Name, Value string }
			} `json:"stagedTargets"`
		} `json:"stagedUploadsCreate"`
	}
	_, err := c.Mutate(context.Background(), `mutation s($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) { stagedTargets { url parameters { name value } } userErrors { message } } }`,
		map[string]any{"input": []any{map[string]any{"resource": "BULK_MUTATION_VARIABLES", "filename": "v.jsonl", "mimeType": "text/jsonl", "httpMethod": "POST"}}}, &out)
	if err != nil || len(out.P.Targets) != 1 {
		t.Fatal(err, out)
	}
	tg := out.P.Targets[0]
	// One byte past the limit; uploads up to it are the other tests'.
	for _, size := range []int{shopifytest.MaxStagedUploadSize + 1} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, p := range tg.Parameters {
			mw.WriteField(p.Name, p.Value)
		}
		fw, _ := mw.CreateFormFile("file", "v.jsonl")
		fw.Write(bytes.Repeat([]byte("a"), size))
		mw.Close()
		resp, err := http.Post(tg.URL, mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		var msg bytes.Buffer
		msg.ReadFrom(resp.Body)
		resp.Body.Close()
		tooLarge := resp.StatusCode == http.StatusBadRequest && strings.Contains(msg.String(), "EntityTooLarge")
		if tooLarge != (size > shopifytest.MaxStagedUploadSize) {
			t.Errorf("%d bytes: HTTP %d %s", size, resp.StatusCode, msg.String())
		}
	}
}

// TestBulkMutation24Hours lets a bulk mutation run past Shopify's 24 hours
// on the fake's clock: it fails with TIMEOUT, a typed error.
func TestBulkMutation24Hours(t *testing.T) {
	// The operation ends a second after it starts; a day passes on the
	// shop's clock as soon as it exists, however slow the machine.
	srv, c := setup(t, shopifytest.WithBulkDuration(time.Second))
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "C"}))
	res, err := func() ([]shopify.ChangeResult, error) {
		go func() {
			for len(srv.BulkOperations()) == 0 {
				time.Sleep(time.Millisecond)
			}
			srv.Advance(25 * time.Hour)
		}()
		return c.Tags.ApplyBulk(context.Background(), []tagging.Change{{ID: id, Add: []string{"a"}}}, fastBulk)
	}()
	var be *shopify.BulkOperationError
	if !errors.Is(err, shopify.ErrBulkTimeout) || !errors.As(err, &be) || be.Operation.Type != shopify.BulkMutation {
		t.Fatalf("got %v, want TIMEOUT", err)
	}
	if res[0].Outcome != shopcrm.Unknown || len(srv.CustomerTags(srv.Customers()[0].ID)) != 0 {
		t.Errorf("%+v, tags %v", res[0], srv.CustomerTags(srv.Customers()[0].ID))
	}
}
