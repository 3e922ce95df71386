package shopify_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// heapSampler reads the bytes held by heap objects, live or not yet
// swept, without stopping the world.
type heapSampler struct {
	s    []metrics.Sample
	peak uint64
}

func newHeapSampler() *heapSampler {
	runtime.GC()
	h := &heapSampler{s: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
	return h
}

func (h *heapSampler) now() uint64 {
	metrics.Read(h.s)
	v := h.s[0].Value.Uint64()
	h.peak = max(h.peak, v)
	return v
}

// TestBulkStreamConstantMemory streams a generated result of about 20 MB
// through the storage path and the typed decoder and checks that the heap
// never grows by more than a fixed bound, far below the file's size. The
// GC runs at GOGC=20 during the test so that the heap tracks what is live.
func TestBulkStreamConstantMemory(t *testing.T) {
	path, size := genFile(t, t.TempDir(), 20000, 2)
	url := storageHost(t, path)
	_, c := setup(t)
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	h := newHeapSampler()
	base := h.now()
	customers, orders := 0, 0
	for row, err := range c.Bulk.Rows(context.Background(), url) {
		if err != nil {
			t.Fatal(err)
		}
		ec, err := shopify.DecodeExportedCustomer(row)
		if err != nil {
			t.Fatal(err)
		}
		customers++
		orders += len(ec.Orders)
		if customers%64 == 0 {
			h.now()
		}
	}
	const bound = 4 << 20
	grew := h.peak - min(base, h.peak)
	t.Logf("file %.1f MB, %d customers, %d orders, heap grew by at most %.2f MB", float64(size)/1e6, customers, orders, float64(grew)/1e6)
	if customers != 20000 || orders != 20000*2+20000/3 {
		t.Errorf("%d customers, %d orders", customers, orders)
	}
	if size < 18e6 {
		t.Errorf("file only %d bytes", size)
	}
	if grew > bound {
		t.Errorf("heap grew by %d bytes streaming a %d-byte file; bound %d", grew, size, bound)
	}
}

func TestDecodeBulkRowsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
	}{
		{"orphan", `{"id":"gid://shopify/Customer/1"}` + "\n" + `{"id":"gid://shopify/Order/1","__parentId":"gid://shopify/Customer/2"}`, 2},
		{"child first", `{"id":"gid://shopify/Order/1","__parentId":"gid://shopify/Customer/1"}`, 1},
		{"not json", `{"id":"gid://shopify/Customer/1"}` + "\n" + `garbage`, 2},
		{"array", `[1,2]`, 1},
		{"too long", `{"id":"` + strings.Repeat("x", 2000) + `"}`, 1},
		{"earlier root", `{"id":"a"}` + "\n" + `{"id":"b"}` + "\n" + `{"id":"c","__parentId":"a"}`, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last error
			for _, err := range shopify.DecodeBulkRows(strings.NewReader(tc.in), 1024) {
				last = err
			}
			var fe *shopify.BulkFormatError
			if !errors.As(last, &fe) || fe.Line != tc.line || !errors.Is(last, shopify.ErrMalformedResponse) {
				t.Errorf("got %v, want a *BulkFormatError on line %d", last, tc.line)
			}
		})
	}
}

func TestDecodeBulkRowsGrandchildren(t *testing.T) {
	in := `{"id":"p1"}
{"id":"c1","__parentId":"p1"}
{"id":"g1","__parentId":"c1"}
{"id":"c2","__parentId":"p1"}
{"id":"g2","__parentId":"c1"}

{"id":"p2"}`
	var got []string
	for row, err := range shopify.DecodeBulkRows(strings.NewReader(in), 0) {
		if err != nil {
			t.Fatal(err)
		}
		s := row.ID + "["
		for _, ch := range row.Children {
			s += ch.ID + "("
			for _, g := range ch.Children {
				s += g.ID
			}
			s += ")"
		}
		got = append(got, s+"]")
	}
	if strings.Join(got, " ") != "p1[c1(g1g2)c2()] p2[]" {
		t.Errorf("got %v", got)
	}
}

var bulkFull = flag.Bool("bulk.full", false, "run the bulk benchmarks at full size (1M customers / 5M orders, 1 GB+ file)")

// BenchmarkBulkStream streams a generated result file of at least 200 MB
// (written to a temporary directory, never kept) through the storage path
// and the typed decoder, and reports rows per second, the file's size and
// the peak heap as a share of it.
func BenchmarkBulkStream(b *testing.B) {
	dir := b.TempDir()
	start := time.Now()
	path, size := genFile(b, dir, 200000, 2)
	b.Logf("generated %.0f MB in %s", float64(size)/1e6, time.Since(start).Round(time.Millisecond))
	url := storageHost(b, path)
	srv := shopifytest.NewServer()
	defer srv.Close()
	c := srv.Client()
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		h := newHeapSampler()
		base := h.now()
		rows := 0
		t0 := time.Now()
		for row, err := range c.Bulk.Rows(context.Background(), url) {
			if err != nil {
				b.Fatal(err)
			}
			if _, err := shopify.DecodeExportedCustomer(row); err != nil {
				b.Fatal(err)
			}
			rows += 1 + len(row.Children)
			if rows%1024 < 4 {
				h.now()
			}
		}
		el := time.Since(t0)
		floor := readFloor(b, url)
		b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
		b.ReportMetric(el.Seconds()/floor.Seconds(), "x-of-read-floor")
		b.ReportMetric(float64(size)/1e6, "file-MB")
		b.ReportMetric(float64(h.peak-min(base, h.peak))/float64(size)*100, "peak-heap-%-of-file")
	}
	_ = os.Remove(filepath.Join(dir, "export.jsonl"))
}

// BenchmarkExportThroughSegment streams an export of customers with their
// orders (1M customers and 5.3M orders with -bulk.full; a tenth of that
// by default, so that one run stays within seconds) from a storage host
// generating it on the fly, turns each customer into segment's input and
// evaluates three segments. It reports rows (customers plus orders) per
// second, the stream's size and the peak heap as a share of it.
func BenchmarkExportThroughSegment(b *testing.B) {
	customers := 100000
	if *bulkFull {
		customers = 1000000
	}
	var size int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := genExport(w, customers, 5)
		size = n
	}))
	defer hs.Close()
	srv := shopifytest.NewServer()
	defer srv.Close()
	c := srv.Client()
	defs := []segment.Definition{
		{Name: "first", Tag: "ecp-first", Rule: segment.FirstTimeBuyer()},
		{Name: "repeat", Tag: "ecp-repeat", Rule: segment.RepeatBuyer()},
		{Name: "line", Tag: "ecp-line", Rule: segment.HasTag("line")},
	}
	b.ResetTimer()
	for range b.N {
		ev, err := segment.NewEvaluator(defs, segment.Options{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		h := newHeapSampler()
		base := h.now()
		rows := 0
		t0 := time.Now()
		for row, err := range c.Bulk.Rows(context.Background(), hs.URL+"/export.jsonl") {
			if err != nil {
				b.Fatal(err)
			}
			ec, err := shopify.DecodeExportedCustomer(row)
			if err != nil {
				b.Fatal(err)
			}
			sc, err := ec.Segment()
			if err != nil {
				b.Fatal(err)
			}
			if err := ev.Add(&sc); err != nil {
				b.Fatal(err)
			}
			rows += 1 + len(ec.Orders)
			if rows%1024 < 7 {
				h.now()
			}
		}
		res, err := ev.Result()
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(t0)
		floor := readFloor(b, hs.URL+"/export.jsonl")
		b.ReportMetric(el.Seconds()/floor.Seconds(), "x-of-read-floor")
		if r, _ := res.Segment("line"); len(r.Members) != customers {
			b.Fatalf("%d members of line", len(r.Members))
		}
		b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
		b.ReportMetric(float64(customers), "customers")
		b.ReportMetric(float64(rows-customers), "orders")
		b.ReportMetric(float64(size)/1e6, "stream-MB")
		b.ReportMetric(float64(h.peak-min(base, h.peak))/float64(size)*100, "peak-heap-%-of-stream")
	}
}

// readFloor is the time to read the same file over HTTP and split it into
// lines, doing nothing with them: what no decoder can beat.
func readFloor(b *testing.B, url string) time.Duration {
	t0 := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), shopify.DefaultMaxBulkLine)
	n := 0
	for sc.Scan() {
		n++
	}
	if sc.Err() != nil || n == 0 {
		b.Fatal(sc.Err(), n)
	}
	return time.Since(t0)
}
