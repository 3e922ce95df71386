package attribution

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // daylight-saving zones without relying on the host
)

func TestDay(t *testing.T) {
	d := Date(2025, time.March, 9)
	if got := d.String(); got != "2025-03-09" {
		t.Errorf("String = %q", got)
	}
	if p, err := ParseDay("2025-03-09"); err != nil || p != d {
		t.Errorf("ParseDay = %v, %v", p, err)
	}
	if _, err := ParseDay("2025-3-9"); err == nil {
		t.Error("ParseDay accepted 2025-3-9")
	}
	if got := Date(1969, time.December, 31); got != -1 {
		t.Errorf("1969-12-31 = %d, want -1", got)
	}
	tokyo := time.FixedZone("JST", 9*60*60)
	at := time.Date(2025, 3, 9, 20, 0, 0, 0, time.UTC)
	if got := DayOf(at, tokyo); got != d+1 {
		t.Errorf("DayOf in Tokyo = %v, want %v", got, d+1)
	}
	if got := DayOf(at, nil); got != d {
		t.Errorf("DayOf in UTC = %v, want %v", got, d)
	}
	var back Day
	if b, _ := d.MarshalText(); back.UnmarshalText(b) != nil || back != d {
		t.Errorf("text round trip gave %v", back)
	}
}

func TestUTCOffset(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		d    Day
		loc  *time.Location
		want string
	}{
		{Date(2025, time.January, 15), helsinki, "+02:00"},
		{Date(2025, time.July, 15), helsinki, "+03:00"},
		{Date(2025, time.March, 30), helsinki, "+02:00"}, // the change happens at 03:00
		{Date(2025, time.July, 15), nil, "+00:00"},
		{Date(2025, time.July, 15), time.FixedZone("", -(9*60+30)*60), "-09:30"},
		{Date(2025, time.July, 15), time.FixedZone("", 5*60*60+45*60), "+05:45"},
	} {
		if got := tt.d.UTCOffset(tt.loc); got != tt.want {
			t.Errorf("%v in %v: %q, want %q", tt.d, tt.loc, got, tt.want)
		}
	}
}

// The rollup's cached day lookup agrees with DayOf, across daylight-saving
// changes and in any order of instants.
func TestDayCache(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, name := range []string{"UTC", "Europe/Helsinki", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		c := newDayCache(loc)
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		for range 20000 {
			sec := base + r.Int64N(2*366*secondsPerDay)
			if r.IntN(4) == 0 {
				sec = base - r.Int64N(100*366*secondsPerDay) // far back, other rules
			}
			if got, want := c.day(sec), DayOf(time.Unix(sec, 0), loc); got != want {
				t.Fatalf("%s: %v: day %v, want %v", name, time.Unix(sec, 0).In(loc), got, want)
			}
		}
	}
}
