package segment

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestParseID(t *testing.T) {
	cases := []struct {
		in     string
		kind   Kind
		want   ID
		reason string // "" for success
	}{
		{"gid://shopify/Customer/123", KindCustomer, cid(123), ""},
		{"123", KindCustomer, cid(123), ""},
		{"7012345678901", KindOrder, oid(7012345678901), ""},
		{"gid://shopify/Product/9223372036854775807", KindProduct, ID{KindProduct, 1<<63 - 1}, ""},
		{"gid://shopify/ProductVariant/5", KindProductVariant, ID{KindProductVariant, 5}, ""},
		{"gid://shopify/Order/1", KindCustomer, ID{}, "GID is a Order"},
		{"", KindCustomer, ID{}, `missing "gid://shopify/" prefix`},
		{"0", KindCustomer, ID{}, "number is zero"},
		{"0123", KindCustomer, ID{}, "number has a leading zero"},
		{"-1", KindCustomer, ID{}, `missing "gid://shopify/" prefix`},
		{"+1", KindCustomer, ID{}, `missing "gid://shopify/" prefix`},
		{"12a", KindCustomer, ID{}, "number has a non-digit"},
		{"1 ", KindCustomer, ID{}, "number has a non-digit"},
		{" 1", KindCustomer, ID{}, `missing "gid://shopify/" prefix`},
		{"9223372036854775808", KindCustomer, ID{}, "number out of range"},
		{"99999999999999999999", KindCustomer, ID{}, "number out of range"},
		{"gid://shopify/Customer/", KindCustomer, ID{}, "missing number"},
		{"gid://shopify/Customer", KindCustomer, ID{}, "missing number"},
		{"gid://shopify/Customer/12?x=1", KindCustomer, ID{}, "number has a non-digit"},
		{"gid://shopify/Customer/12/3", KindCustomer, ID{}, "number has a non-digit"},
		{"gid://shopify/customer/12", KindCustomer, ID{}, "unknown resource type"},
		{"gid://shopify/Widget/12", KindCustomer, ID{}, "unknown resource type"},
		{"GID://shopify/Customer/12", KindCustomer, ID{}, `missing "gid://shopify/" prefix`},
		{"gid://shopify/Customer/0", KindCustomer, ID{}, "number is zero"},
		{"1", 0, ID{}, "invalid kind"},
		{"1", Kind(200), ID{}, "invalid kind"},
	}
	for _, tc := range cases {
		got, err := ParseID(tc.in, tc.kind)
		if tc.reason == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseID(%q, %v) = %v, %v; want %v", tc.in, tc.kind, got, err, tc.want)
			}
			continue
		}
		var ie *IDError
		if !errors.As(err, &ie) || ie.Reason != tc.reason || ie.Input != tc.in {
			t.Errorf("ParseID(%q, %v) error = %v; want *IDError %q", tc.in, tc.kind, err, tc.reason)
		}
	}
}

func TestParseGID(t *testing.T) {
	got, err := ParseGID("gid://shopify/LineItem/42")
	if err != nil || got != (ID{KindLineItem, 42}) {
		t.Errorf("ParseGID = %v, %v", got, err)
	}
	if _, err := ParseGID("42"); err == nil {
		t.Error("ParseGID(42) accepted a plain number")
	}
}

func TestGIDRoundTrip(t *testing.T) {
	for k := KindCustomer; k <= KindDraftOrder; k++ {
		id := ID{Kind: k, Num: 987654321}
		back, err := ParseGID(id.GID())
		if err != nil || back != id {
			t.Errorf("ParseGID(%q) = %v, %v", id.GID(), back, err)
		}
		if got := string(id.AppendGID([]byte("x:"))); got != "x:"+id.String() {
			t.Errorf("AppendGID = %q", got)
		}
	}
	if got := cid(5).GID(); got != "gid://shopify/Customer/5" {
		t.Errorf("GID = %q", got)
	}
	if got := Kind(99).String(); got != "Kind(99)" {
		t.Errorf("Kind(99).String() = %q", got)
	}
}

func TestCompareIsNumeric(t *testing.T) {
	ids := []ID{cid(10), oid(1), cid(9), cid(100), pid(1), cid(9)}
	slices.SortFunc(ids, ID.Compare)
	want := []ID{cid(9), cid(9), cid(10), cid(100), oid(1), pid(1)}
	diff(t, "sorted", want, ids)
	if cid(1).IsZero() || !(ID{}).IsZero() {
		t.Error("IsZero")
	}
}

func TestIDText(t *testing.T) {
	in := struct{ IDs []ID }{[]ID{cid(1), oid(2)}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"IDs":["gid://shopify/Customer/1","gid://shopify/Order/2"]}` {
		t.Errorf("json = %s", b)
	}
	var out struct{ IDs []ID }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	diff(t, "decoded", in, out)
	if err := json.Unmarshal([]byte(`{"IDs":["12"]}`), &out); err == nil {
		t.Error("plain number accepted without a kind")
	}
	if _, err := json.Marshal(ID{}); err == nil {
		t.Error("zero ID marshalled")
	}
}

func TestParseIDDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	var sink ID
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		a, _ := ParseID("gid://shopify/Customer/7012345678901", KindCustomer)
		b, _ := ParseID("7012345678901", KindCustomer)
		buf = a.AppendGID(buf[:0])
		sink = b
	})
	if n != 0 {
		t.Errorf("ParseID + AppendGID allocate %v times per run", n)
	}
	_ = sink
}
