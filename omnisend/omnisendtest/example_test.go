package omnisendtest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// A real-time event whose answer is lost is reported, never resent: the
// server recorded it once.
func Example() {
	srv := omnisendtest.NewServer(omnisendtest.WithFaults(
		omnisendtest.Fault{Op: "sendEvent", Kind: shopcrmtest.FaultLostResponse}))
	defer srv.Close()
	c := srv.Client()
	_, err := c.Events.Send(context.Background(), &omnisend.Event{
		Name:    "reward expiring",
		Contact: omnisend.EventContact{Email: "jane@example.com"},
	})
	var unknown *omnisend.UnknownEventError
	fmt.Println(errors.As(err, &unknown), unknown.Name, len(srv.Events()))
	// Output: true reward expiring 1
}
