package attribution_test

import (
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/money"
)

// The seed's tiers: channel → campaign → ad group → ad, plus an email
// campaign whose messages sit directly under the campaign and a campaign
// reported only at campaign level.
var (
	kw1    = attribution.Key{Channel: "google", Campaign: "search", AdGroup: "brand", Ad: "kw1"}
	kw2    = attribution.Key{Channel: "google", Campaign: "search", AdGroup: "brand", Ad: "kw2"}
	gen1   = attribution.Key{Channel: "google", Campaign: "search", AdGroup: "generic", Ad: "kw3"}
	video  = attribution.Key{Channel: "meta", Campaign: "retarget", AdGroup: "lookalike", Ad: "video"}
	promo  = attribution.Key{Channel: "meta", Campaign: "promo"}
	email2 = attribution.Key{Channel: "klaviyo", Campaign: "welcome", Ad: "email-2"}
	direct = attribution.Key{Channel: attribution.Direct}
)

// t0 is the reference instant of the hand-computed cases.
var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func usd(s string) money.Amount { return money.MustParse(s, "USD") }

func tp(customer string, at time.Time, action attribution.Action, k attribution.Key) attribution.Touchpoint {
	return attribution.Touchpoint{Customer: customer, Time: at, Action: action, Key: k}
}

func seq[T any](xs ...T) iter.Seq[T] { return slices.Values(xs) }

func rollup(t *testing.T, cfg attribution.Config, in attribution.Input) *attribution.Result {
	t.Helper()
	res, err := cfg.Rollup(in)
	if err != nil {
		t.Fatalf("Rollup: %v", err)
	}
	return res
}

// find returns the period row of a level and key.
func find(t *testing.T, rows []attribution.Row, l attribution.Level, k attribution.Key) attribution.Row {
	t.Helper()
	k, _ = k.At(l)
	for _, r := range rows {
		if r.Level == l && r.Key == k {
			return r
		}
	}
	t.Fatalf("no %v row for %v", l, k)
	return attribution.Row{}
}

func totals(as ...money.Amount) money.Totals {
	var t money.Totals
	for _, a := range as {
		if err := t.Add(a); err != nil {
			panic(err)
		}
	}
	return t
}
