package attribution_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/money"
)

// journey is the hand-computed case: four eligible touchpoints aged 21, 14,
// 7 and 0 days at the order (so time-decay weights are 1/8, 1/4, 1/2, 1),
// one per tier shape, surrounded by touchpoints that must not count.
func journey() []attribution.Touchpoint {
	return []attribution.Touchpoint{
		tp("c", t0.Add(-31*day), attribution.AdClick, promo), // outside the 30-day window
		tp("c", t0.Add(-25*day), attribution.AdImpression, video),
		tp("c", t0.Add(-21*day), attribution.AdClick, kw1),
		tp("c", t0.Add(-15*day), attribution.EmailSent, email2),
		tp("c", t0.Add(-14*day-time.Hour), attribution.EmailOpened, email2),
		tp("c", t0.Add(-14*day), attribution.AdClick, video),
		tp("c", t0.Add(-7*day), attribution.EmailClicked, email2),
		tp("c", t0.Add(-7*day), attribution.EmailBounced, email2),
		{Customer: "c", Time: t0, Action: attribution.DirectVisit}, // at the order's instant: counts
		tp("c", t0.Add(time.Second), attribution.AdClick, gen1),    // after the order
	}
}

func order(rev money.Amount) attribution.Conversion {
	return attribution.Conversion{Order: "1001", Customer: "c", Time: t0, Revenue: rev}
}

func part(k attribution.Key, c attribution.Credit, rev string) attribution.Part {
	return attribution.Part{Key: k, Credit: c, Revenue: usd(rev)}
}

func TestAttributeModels(t *testing.T) {
	tests := []struct {
		model attribution.Model
		want  []attribution.Part
	}{
		{attribution.LastClick, []attribution.Part{part(direct, attribution.One, "100.00")}},
		{attribution.FirstClick, []attribution.Part{part(kw1, attribution.One, "100.00")}},
		{attribution.LastNonDirectClick, []attribution.Part{part(email2, attribution.One, "100.00")}},
		{attribution.Linear, []attribution.Part{
			part(kw1, 250000, "25.00"), part(video, 250000, "25.00"), part(email2, 250000, "25.00"), part(direct, 250000, "25.00"),
		}},
		{attribution.AnyClick, []attribution.Part{
			part(kw1, attribution.One, "100.00"), part(video, attribution.One, "100.00"),
			part(email2, attribution.One, "100.00"), part(direct, attribution.One, "100.00"),
		}},
		// Weights 1/8, 1/4, 1/2, 1 over 15/8: shares 1/15, 2/15, 4/15, 8/15.
		// Millionths 66666.67, 133333.33, 266666.67, 533333.33: the two
		// leftover units go to the .67 remainders; cents likewise.
		{attribution.TimeDecay, []attribution.Part{
			part(kw1, 66667, "6.67"), part(video, 133333, "13.33"), part(email2, 266667, "26.67"), part(direct, 533333, "53.33"),
		}},
		// 40% first, 40% last, 20% shared by the two between.
		{attribution.PositionBased, []attribution.Part{
			part(kw1, 400000, "40.00"), part(video, 100000, "10.00"), part(email2, 100000, "10.00"), part(direct, 400000, "40.00"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.model.String(), func(t *testing.T) {
			got, err := attribution.Config{Model: tt.model}.Attribute(order(usd("100.00")), journey())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttributeEdges(t *testing.T) {
	click := func(at time.Duration, k attribution.Key) attribution.Touchpoint {
		return tp("c", t0.Add(at), attribution.AdClick, k)
	}
	visit := func(at time.Duration) attribution.Touchpoint {
		return attribution.Touchpoint{Customer: "c", Time: t0.Add(at), Action: attribution.DirectVisit}
	}
	jpy := money.MustParse("100", "JPY")
	tests := []struct {
		name    string
		cfg     attribution.Config
		conv    attribution.Conversion
		journey []attribution.Touchpoint
		want    []attribution.Part
	}{
		{"position based, one touch", attribution.Config{Model: attribution.PositionBased}, order(usd("10.00")),
			[]attribution.Touchpoint{click(-day, kw1)},
			[]attribution.Part{part(kw1, attribution.One, "10.00")}},
		{"position based, two touches", attribution.Config{Model: attribution.PositionBased}, order(usd("10.01")),
			[]attribution.Touchpoint{click(-2*day, kw1), click(-day, video)},
			[]attribution.Part{part(kw1, 500000, "5.01"), part(video, 500000, "5.00")}},
		{"position based, five touches", attribution.Config{Model: attribution.PositionBased}, order(usd("100.00")),
			[]attribution.Touchpoint{click(-5*day, kw1), click(-4*day, kw2), click(-3*day, gen1), click(-2*day, video), click(-day, promo)},
			[]attribution.Part{part(kw1, 400000, "40.00"), part(kw2, 66667, "6.67"), part(gen1, 66667, "6.67"), part(video, 66666, "6.66"), part(promo, 400000, "40.00")}},
		{"direct only goes to direct", attribution.Config{}, order(usd("10.00")),
			[]attribution.Touchpoint{visit(-2 * day), visit(-day)},
			[]attribution.Part{part(direct, attribution.One, "10.00")}},
		{"last non-direct skips a later direct visit", attribution.Config{}, order(usd("10.00")),
			[]attribution.Touchpoint{click(-2*day, kw1), visit(-day)},
			[]attribution.Part{part(kw1, attribution.One, "10.00")}},
		{"repeat clicks on one key add up", attribution.Config{Model: attribution.Linear}, order(usd("10.00")),
			[]attribution.Touchpoint{click(-3*day, kw1), click(-2*day, video), click(-day, kw1)},
			[]attribution.Part{part(kw1, 666667, "6.67"), part(video, 333333, "3.33")}},
		{"an exact repeat counts once", attribution.Config{Model: attribution.Linear}, order(usd("10.00")),
			[]attribution.Touchpoint{click(-2*day, kw1), click(-2*day, kw1), click(-day, video)},
			[]attribution.Part{part(kw1, 500000, "5.00"), part(video, 500000, "5.00")}},
		{"three-way split, remainder to the first", attribution.Config{Model: attribution.Linear}, order(usd("100.00")),
			[]attribution.Touchpoint{click(-3*day, kw1), click(-2*day, kw2), click(-day, video)},
			[]attribution.Part{part(kw1, 333334, "33.34"), part(kw2, 333333, "33.33"), part(video, 333333, "33.33")}},
		{"yen has no minor unit", attribution.Config{Model: attribution.Linear},
			attribution.Conversion{Order: "1", Customer: "c", Time: t0, Revenue: jpy},
			[]attribution.Touchpoint{click(-3*day, kw1), click(-2*day, kw2), click(-day, video)},
			[]attribution.Part{
				{Key: kw1, Credit: 333334, Revenue: money.MustParse("34", "JPY")},
				{Key: kw2, Credit: 333333, Revenue: money.MustParse("33", "JPY")},
				{Key: video, Credit: 333333, Revenue: money.MustParse("33", "JPY")},
			}},
		{"window edge is inclusive", attribution.Config{Model: attribution.FirstClick, Lookback: 7 * day}, order(usd("1.00")),
			[]attribution.Touchpoint{click(-7*day-time.Nanosecond, kw2), click(-7*day, kw1), click(-day, video)},
			[]attribution.Part{part(kw1, attribution.One, "1.00")}},
		{"only clicks after the order", attribution.Config{}, order(usd("1.00")),
			[]attribution.Touchpoint{click(time.Minute, kw1)}, nil},
		{"impressions and opens never earn credit", attribution.Config{Model: attribution.Linear}, order(usd("1.00")),
			[]attribution.Touchpoint{tp("c", t0.Add(-day), attribution.AdImpression, kw1), tp("c", t0.Add(-day), attribution.EmailOpened, email2), tp("c", t0.Add(-day), attribution.SMSSent, email2)},
			nil},
		{"no customer is unattributed", attribution.Config{},
			attribution.Conversion{Order: "1", Time: t0, Revenue: usd("1.00")}, nil, nil},
		{"half-life decides time decay", attribution.Config{Model: attribution.TimeDecay, HalfLife: day}, order(usd("3.00")),
			[]attribution.Touchpoint{click(-day, kw1), click(0, video)},
			[]attribution.Part{part(kw1, 333333, "1.00"), part(video, 666667, "2.00")}},
		{"tiny half-life does not underflow", attribution.Config{Model: attribution.TimeDecay, HalfLife: time.Nanosecond}, order(usd("1.00")),
			[]attribution.Touchpoint{click(-day, kw1), click(0, video)},
			[]attribution.Part{part(video, attribution.One, "1.00")}},
		{"zero revenue", attribution.Config{Model: attribution.Linear}, order(usd("0.00")),
			[]attribution.Touchpoint{click(-day, kw1), click(0, video)},
			[]attribution.Part{part(kw1, 500000, "0.00"), part(video, 500000, "0.00")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.Attribute(tt.conv, tt.journey)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Touchpoints at the same instant are ordered by key, whatever their input
// order, so last click and remainders never depend on it.
func TestAttributeTiesIgnoreInputOrder(t *testing.T) {
	a := tp("c", t0.Add(-day), attribution.AdClick, video) // "meta" > "google"
	b := tp("c", t0.Add(-day), attribution.AdClick, kw1)
	for _, m := range []attribution.Model{attribution.LastClick, attribution.FirstClick, attribution.Linear} {
		cfg := attribution.Config{Model: m}
		x, err := cfg.Attribute(order(usd("0.01")), []attribution.Touchpoint{a, b})
		if err != nil {
			t.Fatal(err)
		}
		y, err := cfg.Attribute(order(usd("0.01")), []attribution.Touchpoint{b, a})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(x, y); diff != "" {
			t.Errorf("%v depends on input order (-ab +ba):\n%s", m, diff)
		}
	}
	got, _ := attribution.Config{Model: attribution.LastClick}.Attribute(order(usd("1.00")), []attribution.Touchpoint{a, b})
	if diff := cmp.Diff([]attribution.Part{part(video, attribution.One, "1.00")}, got); diff != "" {
		t.Errorf("last click of a tie goes to the greater key (-want +got):\n%s", diff)
	}
	got, _ = attribution.Config{Model: attribution.Linear}.Attribute(order(usd("0.01")), []attribution.Touchpoint{a, b})
	if diff := cmp.Diff([]attribution.Part{part(kw1, 500000, "0.01"), part(video, 500000, "0.00")}, got); diff != "" {
		t.Errorf("the odd cent of a tie goes to the lesser key (-want +got):\n%s", diff)
	}
}

func TestAttributeErrors(t *testing.T) {
	ok := order(usd("1.00"))
	tests := []struct {
		name    string
		cfg     attribution.Config
		conv    attribution.Conversion
		journey []attribution.Touchpoint
		input   string
		field   string
		is      error
	}{
		{"another customer's touchpoint", attribution.Config{}, ok,
			[]attribution.Touchpoint{tp("d", t0, attribution.AdClick, kw1)}, "touchpoint", "Customer", attribution.ErrInvalid},
		{"no order id", attribution.Config{}, attribution.Conversion{Customer: "c", Time: t0, Revenue: usd("1.00")},
			nil, "conversion", "Order", attribution.ErrMissing},
		{"no time", attribution.Config{}, attribution.Conversion{Order: "1", Customer: "c", Revenue: usd("1.00")},
			nil, "conversion", "Time", attribution.ErrMissing},
		{"negative revenue", attribution.Config{}, order(usd("-1.00")), nil, "conversion", "Revenue", attribution.ErrNegative},
		{"touchpoint without channel", attribution.Config{}, ok,
			[]attribution.Touchpoint{tp("c", t0, attribution.AdClick, attribution.Key{Campaign: "x"})}, "touchpoint", "Key.Channel", attribution.ErrMissing},
		{"ad group without campaign", attribution.Config{}, ok,
			[]attribution.Touchpoint{tp("c", t0, attribution.AdClick, attribution.Key{Channel: "g", AdGroup: "x"})}, "touchpoint", "Key.Campaign", attribution.ErrMissing},
		{"unknown action", attribution.Config{}, ok,
			[]attribution.Touchpoint{tp("c", t0, 42, kw1)}, "touchpoint", "Action", attribution.ErrInvalid},
		{"time out of range", attribution.Config{}, ok,
			[]attribution.Touchpoint{tp("c", time.Date(1200, 1, 1, 0, 0, 0, 0, time.UTC), attribution.AdClick, kw1)}, "touchpoint", "Time", attribution.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Attribute(tt.conv, tt.journey)
			var ie *attribution.InputError
			if !errors.As(err, &ie) || ie.Input != tt.input || ie.Field != tt.field || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %s %s: %v", err, tt.input, tt.field, tt.is)
			}
		})
	}
	var unknown *money.UnknownCurrencyError
	if _, err := (attribution.Config{}).Attribute(attribution.Conversion{Order: "1", Customer: "c", Time: t0, Revenue: money.Amount{Minor: 5}}, nil); !errors.As(err, &unknown) {
		t.Errorf("revenue without currency: err = %v, want *money.UnknownCurrencyError", err)
	}
	for _, cfg := range []attribution.Config{
		{Model: 99}, {Lookback: -1}, {HalfLife: -time.Hour}, {From: 10, To: 5},
	} {
		var ce *attribution.ConfigError
		if _, err := cfg.Attribute(ok, nil); !errors.As(err, &ce) {
			t.Errorf("%+v: err = %v, want *ConfigError", cfg, err)
		}
	}
}

func TestModelNames(t *testing.T) {
	for m := attribution.LastNonDirectClick; m <= attribution.PositionBased; m++ {
		got, err := attribution.ParseModel(m.String())
		if err != nil || got != m {
			t.Errorf("ParseModel(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := attribution.ParseModel("data_driven"); err == nil {
		t.Error("ParseModel accepted an unknown model")
	}
	for k := attribution.AdImpression; k <= attribution.MessageBounced; k++ {
		got, err := attribution.ParseAction(k.String())
		if err != nil || got != k {
			t.Errorf("ParseAction(%q) = %v, %v", k.String(), got, err)
		}
		b, err := k.MarshalText()
		var back attribution.Action
		if err != nil || back.UnmarshalText(b) != nil || back != k {
			t.Errorf("%v: text round trip gave %v, %v", k, back, err)
		}
	}
	if _, err := attribution.Action(0).MarshalText(); err == nil {
		t.Error("the zero Action marshalled")
	}
	var names []string
	for l := attribution.TotalLevel; l <= attribution.AdLevel+1; l++ {
		names = append(names, l.String())
	}
	if diff := cmp.Diff([]string{"total", "channel", "campaign", "ad_group", "ad", "Level(5)"}, names); diff != "" {
		t.Errorf("level names (-want +got):\n%s", diff)
	}
}

func TestCreditString(t *testing.T) {
	for c, want := range map[attribution.Credit]string{
		0: "0", attribution.One: "1", 1500000: "1.5", 333333: "0.333333", 1: "0.000001", -250000: "-0.25", 12000000: "12",
	} {
		if got := c.String(); got != want {
			t.Errorf("Credit(%d).String() = %q, want %q", int64(c), got, want)
		}
	}
}
