package attribution_test

import (
	"io"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
)

// decode turns fuzz bytes into a small, often invalid, input: unsorted
// streams, unknown actions and currencies, negative amounts, empty keys.
func decode(data []byte) (attribution.Config, attribution.Input, []attribution.Touchpoint, []attribution.Conversion) {
	customers := []string{"", "a", "b", "c"}
	keys := []attribution.Key{{}, kw1, kw2, video, promo, email2, {Channel: "x", AdGroup: "g"}, direct}
	curs := []money.Currency{"USD", "JPY", "", "XYZ"}
	var cfg attribution.Config
	if len(data) > 0 {
		cfg.Model = attribution.Model(data[0] % 8) // 7 is invalid
		cfg.Lookback = time.Duration(data[0]/8) * time.Hour
		data = data[1:]
	}
	var tps []attribution.Touchpoint
	var convs []attribution.Conversion
	var spend []attribution.Spend
	var msgs []attribution.Messages
	for ; len(data) >= 6; data = data[6:] {
		at := t0.Add(time.Duration(int8(data[2])) * time.Hour)
		k := keys[int(data[4])%len(keys)]
		amt := money.Amount{Minor: int64(int8(data[5])), Currency: curs[int(data[3])%len(curs)]}
		switch data[0] % 4 {
		case 0:
			tps = append(tps, attribution.Touchpoint{Customer: customers[data[1]%4], Time: at, Action: attribution.Action(data[3] % 15), Key: k})
		case 1:
			convs = append(convs, attribution.Conversion{Order: string(rune('0' + data[4]%4)), Customer: customers[data[1]%4], Time: at, Revenue: amt, FirstTime: data[1]&4 != 0})
		case 2:
			spend = append(spend, attribution.Spend{Day: calendar.DateOf(at.UTC()), Key: k, Amount: amt, Impressions: int64(int8(data[1])), Clicks: int64(data[3])})
		case 3:
			msgs = append(msgs, attribution.Messages{Day: calendar.DateOf(at.UTC()), Key: k, Sends: int64(data[1]), Opens: int64(data[3]), Bounces: int64(int8(data[5]))})
		}
	}
	if len(data) > 0 && data[0]&1 == 1 {
		attribution.SortTouchpoints(tps)
		attribution.SortConversions(convs)
	}
	in := attribution.Input{Touchpoints: seq(tps...), Conversions: seq(convs...), Spend: seq(spend...), Messages: seq(msgs...)}
	return cfg, in, tps, convs
}

// FuzzRollup checks that no input makes the package panic, and that every
// rollup that succeeds accounts for its orders exactly.
func FuzzRollup(f *testing.F) {
	f.Add([]byte{3, 0, 1, 0, 2, 1, 0, 1, 1, 3, 0, 1, 50, 1})
	f.Add([]byte{5, 0, 1, 250, 2, 1, 0, 0, 1, 252, 1, 4, 0, 1, 1, 0, 0, 2, 9, 2, 2, 1, 3, 0, 1, 1})
	f.Add([]byte{4, 2, 0, 0, 0, 1, 20, 3, 3, 0, 1, 5, 7, 1, 2, 1, 0, 1, 10, 1})
	f.Add([]byte{0, 0, 0, 0, 8, 0, 0, 1, 0, 1, 0, 0, 100, 0, 2, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, in, tps, convs := decode(data)
		for _, cv := range convs {
			_, _ = cfg.Attribute(cv, tps) // errors are fine, panics are not
		}
		res, err := cfg.Rollup(in)
		if err != nil {
			return
		}
		if len(res.Period) > 0 && res.Period[0].Conversions != attribution.Credit(res.Stats.Attributed)*attribution.One {
			t.Fatalf("total credit %v for %d attributed orders", res.Period[0].Conversions, res.Stats.Attributed)
		}
		_, _ = cfg.Engagements(res.Daily, attribution.EngagementOptions{})
		if err := attribution.WriteTable(io.Discard, res.Daily); err != nil {
			t.Fatal(err)
		}
		if err := attribution.WriteCSV(io.Discard, res.Period); err != nil {
			t.Fatal(err)
		}
	})
}
