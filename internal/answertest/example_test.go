package answertest_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/shopcrm/shopcrm/internal/answertest"
)

// A fuzz target stores each input's answer, then calls the client.
func Example() {
	var t testing.T
	hs := answertest.New(&t)
	defer hs.Close()
	hs.Set(answertest.Answer{Status: answertest.Status(229), Header: answertest.Header("Retry-After", "2.0"), Body: []byte(`{"errors":"Throttled"}`)})
	resp, err := http.Get(hs.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), string(b))
	fmt.Println(answertest.HeaderValues("120", "Wed, 21 Oct 2015 07:28:00 GMT"), answertest.HeaderValues("1\n2"))
	// Output:
	// 429 2.0 {"errors":"Throttled"}
	// true false
}
