package shopcrm_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
)

// poller is a call that polls a job until it is done: Klaviyo's bulk
// import job, Omnisend's batch.
type poller struct {
	name string
	// wait polls the job id on the server at base, every few
	// milliseconds.
	wait func(ctx context.Context, t *testing.T, base string) error
	// pending is an answer saying the job is still running.
	pending string
	// shapeless is a JSON object that holds no job at all.
	shapeless string
}

var pollers = []poller{
	{"klaviyo import job", func(ctx context.Context, t *testing.T, base string) error {
		c, err := klaviyo.New(klaviyo.PrivateKey(klaviyotest.DefaultAPIKey), klaviyo.WithBaseURL(base),
			klaviyo.WithRetryPolicy(policy), klaviyo.WithPollInterval(5*time.Millisecond),
			klaviyo.WithEndpointLimit(klaviyo.EndpointGetImportJob, klaviyo.Limit{}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Profiles.WaitImportJob(ctx, "job-1")
		return err
	},
		`{"data":{"type":"profile-bulk-import-job","id":"job-1","attributes":{"status":"processing","total_count":10,"completed_count":0,"failed_count":0}}}`,
		`{"data":null}`},
	{"omnisend batch", func(ctx context.Context, t *testing.T, base string) error {
		c, err := omnisend.New(omnisend.APIKey(omnisendtest.DefaultAPIKey), omnisend.WithBaseURL(base), omnisend.WithRetryPolicy(policy))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Batches.Wait(ctx, "batch-1", 5*time.Millisecond)
		return err
	},
		`{"batchID":"batch-1","method":"POST","endpoint":"contacts","status":"inProgress","totalCount":10,"finishedCount":0,"errorsCount":0}`,
		`{}`},
}

// TestHostilePolls serves the polling calls of Klaviyo's import jobs and
// Omnisend's batches broken answers: each poll loop ends with a typed
// error instead of polling on (an answer that holds no job is not a job
// still running, nor is one in a status the API does not list), a job
// that never finishes ends at the caller's deadline, and nothing outlives
// the call.
func TestHostilePolls(t *testing.T) {
	for _, p := range pollers {
		answers := []struct {
			name, contentType, body string
			status                  int
			deadline                bool // only the context ends it
		}{
			{"HTML on 200", "text/html", "<html><body>Service Unavailable</body></html>", 200, false},
			{"truncated", "application/json", p.pending[:len(p.pending)/2], 200, false},
			{"JSON null", "application/json", "null", 200, false},
			{"no job in the object", "application/json", p.shapeless, 200, false},
			{"XML on 503", "application/xml", "<Error><Code>Busy</Code></Error>", 503, false},
			{"a status the API does not list", "application/json", strings.Replace(p.pending, `"status":"`, `"status":"exploded-`, 1), 200, false},
			{"never finished", "application/json", p.pending, 200, true},
		}
		for _, a := range answers {
			t.Run(p.name+"/"+a.name, func(t *testing.T) {
				hs := answering(t, a.status, a.contentType, a.body)
				base := runtime.NumGoroutine()
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				start := time.Now()
				err := p.wait(ctx, t, hs.URL)
				took := time.Since(start)
				switch {
				case err == nil:
					t.Fatalf("the poll ended without an error")
				case a.deadline && !errors.Is(err, context.DeadlineExceeded):
					t.Errorf("err = %v, want the context's deadline", err)
				case !a.deadline && errors.Is(err, context.DeadlineExceeded):
					t.Errorf("polled until the deadline on a broken answer: %v", err)
				case !a.deadline && !pollTyped(err):
					t.Errorf("err = %v (%T), want a typed error", err, err)
				}
				if took > time.Second {
					t.Errorf("the poll ran %s past a 300ms deadline", took)
				}
				hs.Close()
				settled(t, base)
			})
		}
		t.Run(p.name+"/100 MB answer", func(t *testing.T) {
			srv := newEndless(t, 200, "application/json", p.pending[:len(p.pending)-2]+`,"x":"`, 'x')
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			u, err := measure(func() error { return p.wait(ctx, t, srv.URL) })
			if !errors.Is(err, shopcrm.ErrBodyTooLarge) {
				t.Errorf("err = %v, want ErrBodyTooLarge", err)
			}
			if u.alloc > maxHeapGrowth {
				t.Errorf("the poll allocated %s", mib(u.alloc))
			}
			srv.Close()
			settled(t, base)
			t.Logf("server wrote %s; allocated %s", mib(srv.written.Load()), mib(u.alloc))
		})
	}
}

// pollTyped reports whether err is one of the typed errors of a poll: the
// platform's *APIError or a response that could not be used.
func pollTyped(err error) bool {
	var ka *klaviyo.APIError
	var oa *omnisend.APIError
	var re *shopcrm.ResponseError
	return errors.As(err, &ka) || errors.As(err, &oa) || errors.As(err, &re) || errors.Is(err, shopcrm.ErrMalformedResponse)
}
