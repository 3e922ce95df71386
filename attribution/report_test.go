package attribution_test

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/money"
)

func reportRows() []attribution.Row {
	return []attribution.Row{
		{Level: attribution.ChannelLevel, Key: attribution.Key{Channel: "google"}, From: d1, To: d2,
			Measures: attribution.Measures{Impressions: 1000, Clicks: 30, Spend: totals(usd("12.00")), Conversions: 1500000, Revenue: totals(usd("45.00"))}},
		{Level: attribution.CampaignLevel, Key: attribution.Key{Channel: "mixed", Campaign: "sale"}, From: d1, To: d2,
			Measures: attribution.Measures{Spend: totals(usd("1.00"), money.MustParse("100", "JPY")), Revenue: totals(usd("3.00"))}},
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	if err := attribution.WriteTable(&b, reportRows(), "level", "channel", "campaign", "clicks", "spend", "conversions", "ctr", "cpc", "roas"); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"level     channel  campaign  clicks               spend  conversions        ctr        cpc                roas\n" +
		"channel   google                 30           12.00 USD          1.5      3.00%   0.40 USD                3.75\n" +
		"campaign  mixed    sale           0  100 JPY + 1.00 USD            0  undefined  undefined  JPY 0.00; USD 3.00\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("table mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteCSV(t *testing.T) {
	var b strings.Builder
	if err := attribution.WriteCSV(&b, reportRows()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(attribution.Columns(), recs[0]); diff != "" {
		t.Errorf("header mismatch (-want +got):\n%s", diff)
	}
	get := func(row int, col string) string { return recs[row][slices.Index(recs[0], col)] }
	for _, tt := range []struct {
		row       int
		col, want string
	}{
		{1, "from", "2025-03-09"}, {1, "to", "2025-03-10"}, {1, "ad_group", ""},
		{1, "ctr", "0.03"}, {1, "cpc", "0.40 USD"}, {1, "cpm", "12.00 USD"}, {1, "cpa", "8.00 USD"},
		{1, "roas", "3.75"}, {1, "conversion_rate", "0.05"}, {1, "open_rate", "undefined"},
		{2, "spend", "100 JPY + 1.00 USD"}, {2, "roas", "JPY 0; USD 3"}, {2, "cpm", "undefined"},
	} {
		if got := get(tt.row, tt.col); got != tt.want {
			t.Errorf("row %d %s = %q, want %q", tt.row, tt.col, got, tt.want)
		}
	}
	if err := attribution.WriteCSV(&b, nil, "level", "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown column: err = %v", err)
	}
	if err := attribution.WriteTable(&b, nil, "spend", "CPC"); err == nil {
		t.Error("WriteTable accepted an unknown column")
	}
}
