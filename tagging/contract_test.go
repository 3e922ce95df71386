package tagging

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestContracts(t *testing.T) {
	tags := []string{
		"line", " Subscription-2-PLAN:Gold ", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー",
		"subscription-1-skip-count:2", "subscription-1-skip-count:5", "subscription-1-pause:2024-06-01",
		"subscription-2-cancel:2024-07-01", "subscription-2-status:active", "subscription-rank:Gold",
		"subscription-count:3", "subscription-1-plan:other", "subscription-3-plan:bad,", "3回目購入",
	}
	want := []Contract{
		{ID: "2", Plan: "Gold", Cancelled: d(2024, 7, 1), Status: "active"},
		{ID: "1", Plan: "定期便A", Product: "コーヒー", Skips: 5, Paused: true, PausedOn: d(2024, 6, 1)},
	}
	got := Default().Contracts(tags)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Contracts mismatch (-want +got):\n%s", diff)
	}
	if got[0].Active() || got[1].Active() || !(&Contract{ID: "9", Plan: "x"}).Active() {
		t.Error("Active")
	}
	c, ok := Default().Contract(tags, "1")
	if !ok || c.Plan != "定期便A" {
		t.Errorf("Contract(1) = %+v, %v", c, ok)
	}
	if c, ok := Default().Contract(tags, "3"); ok || c.ID != "3" {
		t.Errorf("Contract(3) = %+v, %v", c, ok)
	}
	wantTags := []string{"Subscription-2-PLAN:Gold", "subscription-2-cancel:2024-07-01", "subscription-2-status:active"}
	if diff := cmp.Diff(wantTags, Default().ContractTags(tags, "2")); diff != "" {
		t.Errorf("ContractTags(2) mismatch (-want +got):\n%s", diff)
	}
	if got := Default().ContractTags(tags, "4"); got != nil {
		t.Errorf("ContractTags(4) = %q", got)
	}

	// A rank per contract belongs to the contract.
	s, err := NewSchema(WithTemplate(KindRank, "{prefix}-{id}-rank:{value}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Contracts([]string{"subscription-7-rank:Gold"}); len(got) != 1 || got[0].Rank != "Gold" {
		t.Errorf("rank per contract: %+v", got)
	}
}

func TestAppendContractsDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	tags := []string{"line", "subscription-1-plan:A", "subscription-1-cancel:2024-07-01", "subscription-2-plan:B"}
	buf := make([]Contract, 0, 4)
	n := testing.AllocsPerRun(100, func() { buf = Default().AppendContracts(buf[:0], tags) })
	if n != 0 || len(buf) != 2 {
		t.Errorf("AppendContracts: %v allocations, %d contracts", n, len(buf))
	}
}
