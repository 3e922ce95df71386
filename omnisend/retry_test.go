package omnisend_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// A read whose answer arrives cut off is retried; a write that is not
// idempotent is not, though its answer is cut off too.
func TestMalformedAnswer(t *testing.T) {
	srv, c := setup(t, omnisendtest.WithFaults(
		omnisendtest.Fault{Op: "getContact", Kind: shopcrmtest.FaultMalformed, Times: 2},
		omnisendtest.Fault{Op: "createBatch", Kind: shopcrmtest.FaultMalformed}))
	ctx := context.Background()
	id := srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email(email(1), omnisend.Subscribed)}})
	got, _, err := c.Contacts.Get(ctx, id)
	if err != nil || got.ID != id {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if n := srv.Stats().Ops["getContact"].Requests; n != 3 {
		t.Errorf("getContact requests = %d, want 3 (two cut off, one whole)", n)
	}
	item := json.RawMessage(`{"identifiers":[{"type":"email","id":"` + email(2) + `"}]}`)
	_, _, err = c.Batches.Create(ctx, &omnisend.BatchRequest{Method: "POST", Endpoint: "contacts", Items: []json.RawMessage{item}})
	var re *shopcrm.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("Create: err = %v, want a *shopcrm.ResponseError", err)
	}
	if n := srv.Stats().Ops["createBatch"].Requests; n != 1 {
		t.Errorf("createBatch requests = %d, want 1", n)
	}
}
