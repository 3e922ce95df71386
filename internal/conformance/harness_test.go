package conformance

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Each spec family gets a known-good exchange that must pass and a
// known-bad one that must fail on a body property, naming it.

func checkPair(t *testing.T, spec string, good, bad Exchange, property string) {
	t.Helper()
	doc := OpenAPI(t, spec)
	if err := ValidateExchange(doc, good); err != nil {
		t.Errorf("good exchange rejected: %v", err)
	}
	err := ValidateExchange(doc, bad)
	if err == nil {
		t.Fatalf("bad exchange accepted")
	}
	if strings.Contains(err.Error(), "no operation") {
		t.Fatalf("bad exchange failed on the route, not the body: %v", err)
	}
	if !strings.Contains(err.Error(), property) {
		t.Errorf("error does not name %q: %v", property, err)
	}
}

func jsonHeader(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestLineHarness(t *testing.T) {
	good := Exchange{
		Method: "POST", URL: "http://127.0.0.1:9/v2/bot/message/push",
		RequestHeader: jsonHeader("Authorization", "Bearer x", "X-Line-Retry-Key", "123e4567-e89b-12d3-a456-426614174000"),
		RequestBody:   []byte(`{"to":"U4af4980629","messages":[{"type":"text","text":"hello"}]}`),
		Status:        200, ResponseHeader: jsonHeader(),
		ResponseBody: []byte(`{"sentMessages":[{"id":"461230966842064897","quoteToken":"IStG5h1Tz7b"}]}`),
	}
	bad := good
	bad.RequestBody = []byte(`{"messages":[{"type":"text","text":"hello"}]}`)
	checkPair(t, "specs/line/messaging-api.yml", good, bad, `"to"`)
}

func TestKlaviyoHarness(t *testing.T) {
	good := Exchange{
		Method: "POST", URL: "http://127.0.0.1:9/api/events",
		RequestHeader: jsonHeader("Content-Type", "application/vnd.api+json", "revision", "2026-07-15", "Authorization", "Klaviyo-API-Key pk_x"),
		RequestBody: []byte(`{"data":{"type":"event","attributes":{"properties":{"points":10},` +
			`"metric":{"data":{"type":"metric","attributes":{"name":"Points Earned"}}},` +
			`"profile":{"data":{"type":"profile","attributes":{"email":"a@example.com"}}}}}}`),
		Status: 202, ResponseHeader: http.Header{},
	}
	bad := good
	bad.RequestBody = []byte(`{"data":{"type":"event","attributes":{` +
		`"metric":{"data":{"type":"metric","attributes":{"name":"Points Earned"}}},` +
		`"profile":{"data":{"type":"profile","attributes":{"email":"a@example.com"}}}}}}`)
	checkPair(t, "specs/klaviyo/stable.json", good, bad, `"properties"`)
}

func TestOmnisendHarness(t *testing.T) {
	good := Exchange{
		Method: "POST", URL: "http://127.0.0.1:9/api/events",
		RequestHeader: jsonHeader("Omnisend-Version", "2026-03-15", "Authorization", "Omnisend-API-Key k"),
		RequestBody:   []byte(`{"eventName":"points earned","origin":"api","eventID":"9afca57b-d157-478b-adde-b9506322b16f","properties":{"points":10}}`),
	}
	bad := good
	bad.RequestBody = []byte(`{"eventName":42,"origin":"api"}`)
	checkPair(t, "specs/omnisend/omnisend-events-api-2026-03-15.json", good, bad, `/eventName`)
}

func TestShopifyHarness(t *testing.T) {
	schema := ShopifySchema(t)
	good := `mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }`
	if err := ValidateGraphQL(schema, good); err != nil {
		t.Errorf("good document rejected: %v", err)
	}
	bad := `query { customers(first: 10) { nodes { id tagz } } }`
	err := ValidateGraphQL(schema, bad)
	if err == nil || !strings.Contains(err.Error(), `"tagz"`) {
		t.Errorf("bad document: %v, want an error naming tagz", err)
	}
}

func TestRecorder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(append([]byte(`{"echo":`), append(b, '}')...))
	}))
	defer srv.Close()
	rec := NewRecorder(nil)
	hc := &http.Client{Transport: rec}
	resp, err := hc.Post(srv.URL+"/x", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ex := rec.Exchanges()
	if len(ex) != 1 || string(ex[0].RequestBody) != `{"a":1}` || string(ex[0].ResponseBody) != string(body) || ex[0].Status != 200 {
		t.Errorf("recorded %+v, client read %s", ex, body)
	}
}
