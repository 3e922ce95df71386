package calendar_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
)

// Every day from 1600 to 2400 agrees with package time, and neighbouring
// days differ by one.
func TestAgreesWithTime(t *testing.T) {
	start := time.Date(1600, time.January, 1, 0, 0, 0, 0, time.UTC)
	prev := calendar.DateOf(start) - 1
	for tm := start; tm.Year() < 2400; tm = tm.AddDate(0, 0, 1) {
		d := calendar.DateOf(tm)
		if d != prev+1 {
			t.Fatalf("%s: %d after %d", tm.Format(time.DateOnly), d, prev)
		}
		prev = d
		y, m, dd := d.Split()
		if ty, tmm, tdd := tm.Date(); y != ty || m != tmm || dd != tdd {
			t.Fatalf("%s splits to %d-%d-%d", tm.Format(time.DateOnly), y, m, dd)
		}
		if d.String() != tm.Format(time.DateOnly) {
			t.Fatalf("String = %s, want %s", d, tm.Format(time.DateOnly))
		}
		if !d.Start(nil).Equal(tm) {
			t.Fatalf("Start = %v", d.Start(nil))
		}
	}
}

func TestRange(t *testing.T) {
	first, last := calendar.NewDate(1, time.January, 1), calendar.NewDate(9999, time.December, 31)
	if first != 1 || !first.Valid() || !last.Valid() || (last + 1).Valid() || (first - 1).Valid() {
		t.Errorf("range: %d %d", first, last)
	}
	if !calendar.Date(0).IsZero() || calendar.Date(0).Valid() || first.IsZero() {
		t.Error("zero")
	}
	if got := calendar.NewDate(2025, time.February, 30).String(); got != "2025-03-02" {
		t.Errorf("normalised = %s", got)
	}
	if got := calendar.NewDate(2025, 14, 1).String(); got != "2026-02-01" {
		t.Errorf("normalised = %s", got)
	}
	if got := calendar.NewDate(2025, 0, 0).String(); got != "2024-11-30" {
		t.Errorf("normalised = %s", got)
	}
	if got := calendar.Date(0).String(); got != "0000-12-31" {
		t.Errorf("zero String = %s", got)
	}
	if calendar.DaysIn(2024, time.February) != 29 || calendar.DaysIn(1900, time.February) != 28 || calendar.DaysIn(2000, time.February) != 29 {
		t.Error("DaysIn")
	}
}

func TestDateOfUsesLocation(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	at := time.Date(2025, time.March, 9, 20, 0, 0, 0, time.UTC)
	if got := calendar.DateOf(at.In(tokyo)).String(); got != "2025-03-10" {
		t.Errorf("Tokyo date = %s", got)
	}
	if got := calendar.DateOf(at).String(); got != "2025-03-09" {
		t.Errorf("UTC date = %s", got)
	}
	if got := calendar.NewDate(2025, time.March, 10).Start(tokyo); !got.Equal(time.Date(2025, 3, 9, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("Start = %v", got)
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2024-02-29", "0001-01-01", "9999-12-31"} {
		d, err := calendar.ParseDate(s)
		if err != nil || d.String() != s {
			t.Errorf("ParseDate(%q) = %v, %v", s, d, err)
		}
	}
	for _, s := range []string{"", "2023-02-29", "2024-2-1", "2024-13-01", "0000-01-01", "2024-01-01 ", "24-01-01", "2024/01/01"} {
		_, err := calendar.ParseDate(s)
		var pe *calendar.ParseError
		if !errors.As(err, &pe) || pe.Input != s {
			t.Errorf("ParseDate(%q) error = %v", s, err)
		}
	}
}

func TestText(t *testing.T) {
	in := struct{ On calendar.Date }{calendar.NewDate(2025, time.June, 1)}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"On":"2025-06-01"}` {
		t.Fatalf("json = %s, %v", b, err)
	}
	var out struct{ On calendar.Date }
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("decoded %v, %v", out, err)
	}
	if _, err := json.Marshal(struct{ On calendar.Date }{}); err == nil {
		t.Error("zero Date marshalled")
	}
}
