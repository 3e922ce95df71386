package gid_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/gid"
)

func cid(n int64) gid.ID { return gid.New(gid.Customer, n) }
func oid(n int64) gid.ID { return gid.New(gid.Order, n) }

func TestParseAs(t *testing.T) {
	cases := []struct {
		in     string
		typ    gid.Type
		want   gid.ID
		reason string // "" for success
	}{
		{"gid://shopify/Customer/123", gid.Customer, cid(123), ""},
		{"123", gid.Customer, cid(123), ""},
		{"7012345678901", gid.Order, oid(7012345678901), ""},
		{"gid://shopify/Product/9223372036854775807", gid.Product, gid.New(gid.Product, 1<<63-1), ""},
		{"gid://shopify/ProductVariant/5", gid.ProductVariant, gid.New(gid.ProductVariant, 5), ""},
		{"gid://shopify/Article/5", gid.Article, gid.New(gid.Article, 5), ""},
		{"gid://shopify/Order/1", gid.Customer, gid.ID{}, "GID is a Order"},
		{"", gid.Customer, gid.ID{}, `missing "gid://shopify/" prefix`},
		{"0", gid.Customer, gid.ID{}, "number is zero"},
		{"0123", gid.Customer, gid.ID{}, "number has a leading zero"},
		{"-1", gid.Customer, gid.ID{}, `missing "gid://shopify/" prefix`},
		{"+1", gid.Customer, gid.ID{}, `missing "gid://shopify/" prefix`},
		{"12a", gid.Customer, gid.ID{}, "number has a non-digit"},
		{"1 ", gid.Customer, gid.ID{}, "number has a non-digit"},
		{" 1", gid.Customer, gid.ID{}, `missing "gid://shopify/" prefix`},
		{"9223372036854775808", gid.Customer, gid.ID{}, "number out of range"},
		{"99999999999999999999", gid.Customer, gid.ID{}, "number out of range"},
		{"gid://shopify/Customer/", gid.Customer, gid.ID{}, "missing number"},
		{"gid://shopify/Customer", gid.Customer, gid.ID{}, "missing number"},
		{"gid://shopify/Customer/12?x=1", gid.Customer, gid.ID{}, "number has a non-digit"},
		{"gid://shopify/Customer/12/3", gid.Customer, gid.ID{}, "number has a non-digit"},
		{"gid://shopify/customer/12", gid.Customer, gid.ID{}, "unknown resource type"},
		{"gid://shopify//12", gid.Customer, gid.ID{}, "unknown resource type"},
		{"gid://shopify/Widget/12", gid.Customer, gid.ID{}, "unknown resource type"},
		{"GID://shopify/Customer/12", gid.Customer, gid.ID{}, `missing "gid://shopify/" prefix`},
		{"gid://shopify/Customer/0", gid.Customer, gid.ID{}, "number is zero"},
		{"1", 0, gid.ID{}, "invalid resource type"},
		{"gid://shopify/Customer/1", 200, gid.ID{}, "invalid resource type"},
	}
	for _, tc := range cases {
		got, err := gid.ParseAs(tc.in, tc.typ)
		if tc.reason == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseAs(%q, %q) = %v, %v; want %v", tc.in, tc.typ, got, err, tc.want)
			}
			continue
		}
		var e *gid.Error
		if !errors.As(err, &e) || e.Reason != tc.reason || e.Input != tc.in || e.Want != tc.typ {
			t.Errorf("ParseAs(%q, %q) error = %v; want *gid.Error %q", tc.in, tc.typ, err, tc.reason)
		}
	}
}

func TestParse(t *testing.T) {
	got, err := gid.Parse("gid://shopify/LineItem/42")
	if err != nil || got != gid.New(gid.LineItem, 42) {
		t.Errorf("Parse = %v, %v", got, err)
	}
	if _, err := gid.Parse("42"); err == nil {
		t.Error("Parse(42) accepted a plain number")
	}
	got, err = gid.Parse("gid://shopify/CustomerSegmentMember/7")
	if err != nil || got.Type != gid.CustomerSegmentMember || got.Num != 7 {
		t.Errorf("Parse = %v, %v", got, err)
	}
	var e *gid.Error
	if _, err := gid.Parse("gid://shopify/Customer/x"); !errors.As(err, &e) || e.Want != 0 {
		t.Errorf("Parse error = %#v", err)
	} else if got := e.Error(); got != `gid: parse id "gid://shopify/Customer/x": number has a non-digit` {
		t.Errorf("Error() = %q", got)
	}
}

func TestRoundTrip(t *testing.T) {
	for typ := gid.Customer; typ.Valid(); typ++ {
		id := gid.New(typ, 987654321)
		s := "gid://shopify/" + typ.String() + "/987654321"
		if back, ok := gid.ParseType(typ.String()); !ok || back != typ {
			t.Errorf("ParseType(%s) = %v, %v", typ, back, ok)
		}
		if id.String() != s {
			t.Errorf("String() = %q, want %q", id.String(), s)
		}
		back, err := gid.Parse(s)
		if err != nil || back != id {
			t.Errorf("Parse(%q) = %v, %v", s, back, err)
		}
		if got := string(id.Append([]byte("x:"))); got != "x:"+s {
			t.Errorf("Append = %q", got)
		}
	}
}

func TestCompareIsNumeric(t *testing.T) {
	ids := []gid.ID{cid(10), oid(1), cid(9), cid(100), gid.New(gid.Product, 1), cid(9)}
	slices.SortFunc(ids, gid.ID.Compare)
	want := []gid.ID{cid(9), cid(9), cid(10), cid(100), oid(1), gid.New(gid.Product, 1)}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("sorted (-want +got):\n%s", d)
	}
	if cid(1).IsZero() || !(gid.ID{}).IsZero() {
		t.Error("IsZero")
	}
	if !cid(1).Is(gid.Customer) || cid(1).Is(gid.Order) || cid(0).Is(gid.Customer) || (gid.ID{Type: 99, Num: 1}).Valid() || gid.Type(99).String() != "Type(99)" {
		t.Error("Is/Valid")
	}
}

func TestText(t *testing.T) {
	in := struct{ IDs []gid.ID }{[]gid.ID{cid(1), oid(2)}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"IDs":["gid://shopify/Customer/1","gid://shopify/Order/2"]}` {
		t.Errorf("json = %s", b)
	}
	var out struct{ IDs []gid.ID }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(in, out); d != "" {
		t.Errorf("decoded (-want +got):\n%s", d)
	}
	if err := json.Unmarshal([]byte(`{"IDs":["12"]}`), &out); err == nil {
		t.Error("plain number accepted without a type")
	}
	if _, err := json.Marshal(gid.ID{}); err == nil {
		t.Error("zero ID marshalled")
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	var sink gid.ID
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		a, _ := gid.ParseAs("gid://shopify/Customer/7012345678901", gid.Customer)
		b, _ := gid.ParseAs("7012345678901", gid.Customer)
		c, _ := gid.Parse("gid://shopify/CustomerSegmentMember/7")
		buf = a.Append(buf[:0])
		buf = c.Append(buf)
		sink = b
	})
	if n != 0 {
		t.Errorf("Parse + Append allocate %v times per run", n)
	}
	_ = sink
}

// FuzzParseAs checks ParseAs never panics, fails only with *gid.Error, and
// round-trips: an accepted GID formats back byte for byte, an accepted
// number formats back to itself.
func FuzzParseAs(f *testing.F) {
	for _, s := range []string{"gid://shopify/Customer/1", "12", "gid://shopify/Order/0", "gid://shopify/A/1?"} {
		f.Add(s, uint8(gid.Customer))
	}
	f.Fuzz(func(t *testing.T, s string, typ uint8) {
		id, err := gid.ParseAs(s, gid.Type(typ))
		if err != nil {
			var e *gid.Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseAs(%q) returned %T %v", s, err, err)
			}
			return
		}
		if id.Type != gid.Type(typ) || !id.Valid() {
			t.Fatalf("ParseAs(%q, %d) = %v", s, typ, id)
		}
		if strings.HasPrefix(s, gid.Prefix) {
			if id.String() != s {
				t.Fatalf("String() = %q, input %q", id.String(), s)
			}
		} else if strconv.FormatInt(id.Num, 10) != s {
			t.Fatalf("number %q parsed as %d", s, id.Num)
		}
		back, err := gid.Parse(id.String())
		if err != nil || back != id {
			t.Fatalf("Parse(%q) = %v, %v", id.String(), back, err)
		}
	})
}

func BenchmarkParseAs(b *testing.B) {
	gids := []string{"gid://shopify/Customer/7012345678901", "7012345678901"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := gid.ParseAs(gids[i&1], gid.Customer); err != nil {
			b.Fatal(err)
		}
	}
}
