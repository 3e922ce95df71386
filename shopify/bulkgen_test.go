package shopify_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// genExport writes a customers-with-orders bulk result as Shopify writes
// it for ExportCustomersQuery: each customer's line, then one line per
// order naming it in __parentId. Customer i has ordersEach orders plus one
// more for every third customer, so parents hold different child counts.
// It appends bytes without encoding/json so that hundreds of megabytes
// take about a second. It returns the bytes written.
func genExport(w io.Writer, customers, ordersEach int) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var n int64
	buf := make([]byte, 0, 1024)
	order := int64(1)
	for i := 1; i <= customers; i++ {
		id := strconv.Itoa(i)
		k := ordersEach + boolInt(i%3 == 0)
		buf = append(buf[:0], `{"id":"gid://shopify/Customer/`...)
		buf = append(buf, id...)
		buf = append(buf, `","firstName":"Aiko","lastName":null,"displayName":"Aiko","email":"c`...)
		buf = append(buf, id...)
		buf = append(buf, `@example.com","phone":null,"tags":["line","vip-`...)
		buf = strconv.AppendInt(buf, int64(i%7), 10)
		buf = append(buf, `"],"numberOfOrders":"`...)
		buf = strconv.AppendInt(buf, int64(k), 10)
		buf = append(buf, `","amountSpent":{"amount":"`...)
		buf = strconv.AppendInt(buf, int64(k*12), 10)
		buf = append(buf, `.50","currencyCode":"USD"},"state":"ENABLED","createdAt":"2024-03-01T10:00:00Z","updatedAt":"2025-01-02T10:00:00Z",`...)
		buf = append(buf, `"emailMarketingConsent":{"marketingState":"SUBSCRIBED","marketingOptInLevel":"SINGLE_OPT_IN","consentUpdatedAt":"2024-03-01T10:00:00Z"},"smsMarketingConsent":null}`+"\n"...)
		for j := 0; j < k; j++ {
			buf = append(buf, `{"id":"gid://shopify/Order/`...)
			buf = strconv.AppendInt(buf, order, 10)
			buf = append(buf, `","createdAt":"2025-0`...)
			buf = strconv.AppendInt(buf, int64(1+j%9), 10)
			buf = append(buf, `-1`...)
			buf = strconv.AppendInt(buf, int64(j%9), 10)
			buf = append(buf, `T09:00:00Z","processedAt":"2025-0`...)
			buf = strconv.AppendInt(buf, int64(1+j%9), 10)
			buf = append(buf, `-1`...)
			buf = strconv.AppendInt(buf, int64(j%9), 10)
			buf = append(buf, `T09:00:00Z","sourceName":"web","tags":[],"currentTotalPriceSet":{"shopMoney":{"amount":"12.50","currencyCode":"USD"}},"__parentId":"gid://shopify/Customer/`...)
			buf = append(buf, id...)
			buf = append(buf, "\"}\n"...)
			order++
		}
		m, err := bw.Write(buf)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// genFile writes genExport's output to a file in dir and returns its path
// and size.
func genFile(tb testing.TB, dir string, customers, ordersEach int) (string, int64) {
	tb.Helper()
	path := filepath.Join(dir, "export.jsonl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := genExport(f, customers, ordersEach)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
	return path, n
}

// storageHost serves a file as a storage host does.
func storageHost(tb testing.TB, path string) string {
	tb.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jsonl")
		http.ServeFile(w, r, path)
	}))
	tb.Cleanup(hs.Close)
	return hs.URL + "/export.jsonl"
}
