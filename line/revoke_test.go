package line_test

import (
	"context"
	"testing"

	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
)

// TestRevokeStoredToken: a process that restarted and has not called Token
// yet revokes the token its store holds, instead of reporting success
// while the token stays valid and keeps counting against the channel's 30.
func TestRevokeStoredToken(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	store := &memStore{}
	tok, err := srv.TokenIssuer(line.ShortLived, line.WithTokenStore(store)).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	quota := func() error {
		c, err := line.New(line.StaticToken(tok.Reveal()), line.WithBaseURL(srv.URL()), line.WithRetryPolicy(line.RetryPolicy{}))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Messages.Quota(ctx)
		return err
	}
	if err := quota(); err != nil {
		t.Fatal(err)
	}
	restarted := srv.TokenIssuer(line.ShortLived, line.WithTokenStore(store))
	if err := restarted.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
	if err := quota(); err == nil {
		t.Error("the stored token still works after Revoke")
	}
	if it, _ := store.Load(ctx); !it.Token.IsZero() {
		t.Error("the store still holds the token")
	}
}
