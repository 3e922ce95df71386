package attribution

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // daylight-saving zones without relying on the host

	"github.com/shopcrm/shopcrm/calendar"
)

func TestDateOf(t *testing.T) {
	d := calendar.NewDate(2025, time.March, 9)
	tokyo := time.FixedZone("JST", 9*60*60)
	at := time.Date(2025, 3, 9, 20, 0, 0, 0, time.UTC)
	if got := dateOf(at, tokyo); got != d+1 {
		t.Errorf("dateOf in Tokyo = %v, want %v", got, d+1)
	}
	if got := dateOf(at, nil); got != d {
		t.Errorf("dateOf in UTC = %v, want %v", got, d)
	}
	if got := unixEpoch.AddDays(-1).String(); got != "1969-12-31" {
		t.Errorf("day before the epoch = %s", got)
	}
}

func TestUTCOffset(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		d    calendar.Date
		loc  *time.Location
		want string
	}{
		{calendar.NewDate(2025, time.January, 15), helsinki, "+02:00"},
		{calendar.NewDate(2025, time.July, 15), helsinki, "+03:00"},
		{calendar.NewDate(2025, time.March, 30), helsinki, "+02:00"}, // the change happens at 03:00
		{calendar.NewDate(2025, time.July, 15), nil, "+00:00"},
		{calendar.NewDate(2025, time.July, 15), time.FixedZone("", -(9*60+30)*60), "-09:30"},
		{calendar.NewDate(2025, time.July, 15), time.FixedZone("", 5*60*60+45*60), "+05:45"},
	} {
		if got := utcOffset(tt.d, tt.loc); got != tt.want {
			t.Errorf("%v in %v: %q, want %q", tt.d, tt.loc, got, tt.want)
		}
	}
}

// The rollup's cached day lookup agrees with dateOf, across daylight-saving
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
			if got, want := c.day(sec), dateOf(time.Unix(sec, 0), loc); got != want {
				t.Fatalf("%s: %v: day %v, want %v", name, time.Unix(sec, 0).In(loc), got, want)
			}
		}
	}
}

// cellIndex gives one stable cell per (leaf, day), whether the day falls
// in the leaf's dense span or only in the map.
func TestCellIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	e := newEngine(settings{loc: time.UTC})
	want := map[[2]int64]int32{}
	for range 5000 {
		id := e.leafOf(Key{Channel: "c", Campaign: string(rune('a' + r.IntN(5)))})
		d := calendar.Date(r.IntN(40))
		if r.IntN(10) == 0 {
			d = calendar.Date(r.IntN(100000) - 50000) // far away: beyond any span
		}
		got := e.cellIndex(id, d)
		k := [2]int64{int64(id), int64(d)}
		if w, ok := want[k]; ok && w != got {
			t.Fatalf("leaf %d day %d: cell %d, earlier %d", id, d, got, w)
		}
		want[k] = got
		if c := e.cells[got]; c.leaf != id || c.day != d {
			t.Fatalf("cell %d is leaf %d day %d, want %d %d", got, c.leaf, c.day, id, d)
		}
	}
	if len(e.cells) != len(want) {
		t.Errorf("%d cells for %d (leaf, day) pairs", len(e.cells), len(want))
	}
}
