package fake

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// TimeoutHold is the longest FaultTimeout holds a request when the client
// does not hang up first.
const TimeoutHold = time.Minute

// ErrTooLarge reports a request body over the fake's cap.
var ErrTooLarge = errors.New("request body too large")

// Receive reads r's body, refusing one over maxBody bytes, then waits
// latency, the round trip the fake stands for. It fails when the body
// cannot be read or the client hangs up during the wait. The body is read
// first because the server notices a client hanging up only once the body
// is consumed.
func Receive(r *http.Request, maxBody int64, latency time.Duration) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > maxBody {
		return nil, ErrTooLarge
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return body, nil
}

// WriteJSON answers status with v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Acts reports whether the fake carries out a request struck by a fault of
// kind k: true for no fault, a lost response and a malformed body.
func Acts(k shopcrmtest.FaultKind) bool {
	switch k {
	case shopcrmtest.FaultNone, shopcrmtest.FaultLostResponse, shopcrmtest.FaultMalformed:
		return true
	}
	return false
}

// Answers reports whether the client gets an HTTP answer under a fault of
// kind k (possibly a malformed one): false for dropped connections,
// timeouts and lost responses.
func Answers(k shopcrmtest.FaultKind) bool {
	switch k {
	case shopcrmtest.FaultDrop, shopcrmtest.FaultTimeout, shopcrmtest.FaultLostResponse:
		return false
	}
	return true
}

// Respond builds a request's answer into w under fault f (as returned by
// Faults.Pick). act, which writes the fake's own answer into w, runs only
// when the fault lets the fake act. A status or rate-limit fault writes its
// status, its Retry-After header and body(status), the platform's error
// body, instead; a drop or a timeout writes nothing.
func Respond(w http.ResponseWriter, f shopcrmtest.Fault, body func(status int) any, act func()) {
	switch {
	case Acts(f.Kind):
		act()
	case f.Kind == shopcrmtest.FaultStatus || f.Kind == shopcrmtest.FaultRateLimit:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		WriteJSON(w, f.Status, body(f.Status))
	}
}

// Deliver sends the answer recorded in rec to the client through fault f:
// as it is, truncated (FaultMalformed), or not at all, the connection
// closed at once (FaultDrop, FaultLostResponse) or once the client hangs up
// or TimeoutHold passes (FaultTimeout).
func Deliver(w http.ResponseWriter, r *http.Request, rec *httptest.ResponseRecorder, f shopcrmtest.Fault) {
	switch f.Kind {
	case shopcrmtest.FaultTimeout:
		t := time.NewTimer(TimeoutHold)
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
		hangUp(w)
		return
	case shopcrmtest.FaultDrop, shopcrmtest.FaultLostResponse:
		hangUp(w)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	out := rec.Body.Bytes()
	if f.Kind == shopcrmtest.FaultMalformed {
		w.Header().Del("Content-Length")
		if len(out) < 2 {
			out = []byte("{")
		} else {
			out = out[:len(out)/2]
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
