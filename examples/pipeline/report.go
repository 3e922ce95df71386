package pipeline

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
)

// Report is a day's outcome: every step's report and the tables of the
// segment and marketing steps.
type Report struct {
	Shop      string
	Day       calendar.Date
	Steps     []*StepReport
	Segments  *SegmentsResult  // nil when the step did not run
	Marketing *MarketingResult // nil when the step did not run
}

// attributionColumns are the rollup columns the report shows.
var attributionColumns = []string{"level", "channel", "campaign", "ad_group", "ad", "impressions", "clicks", "spend",
	"sends", "opens", "conversions", "revenue", "cpa", "roas", "open_rate"}

// WriteText writes the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Day %s for %s\n", r.Day, r.Shop)
	for _, s := range r.Steps {
		fmt.Fprintln(w, " ", s)
		for _, n := range s.Notes {
			fmt.Fprintln(w, "    -", n)
		}
		for _, p := range slices.Sorted(maps.Keys(s.Minimum)) {
			fmt.Fprintln(w, "    "+s.VersusMinimum(p))
		}
	}
	if r.Segments != nil && len(r.Segments.Reports) > 0 {
		fmt.Fprintln(w, "\nSegments")
		if err := writeSegmentTable(w, r.Segments, false); err != nil {
			return err
		}
	}
	if r.Marketing != nil && r.Marketing.Attribution != nil {
		fmt.Fprintf(w, "\nAttribution (%s)\n", r.Marketing.Attribution.Model)
		if err := attribution.WriteTable(w, r.Marketing.Attribution.Period, attributionColumns...); err != nil {
			return err
		}
		u := r.Marketing.Attribution.Unattributed
		fmt.Fprintf(w, "unattributed conversions: %d (%d without customer)\n", u.Conversions, u.NoCustomer)
	}
	return nil
}

// WriteFiles writes the report into dir as CSV files (steps.csv,
// segments.csv, attribution.csv, engagements.csv) and a self-contained
// report.html, and returns their paths.
func (r *Report) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	write := func(name string, fn func(io.Writer) error) error {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		err = fn(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		paths = append(paths, p)
		return err
	}
	if err := write("steps.csv", r.writeStepsCSV); err != nil {
		return paths, err
	}
	if r.Segments != nil {
		if err := write("segments.csv", func(w io.Writer) error { return writeSegmentTable(w, r.Segments, true) }); err != nil {
			return paths, err
		}
	}
	if m := r.Marketing; m != nil && m.Attribution != nil {
		if err := write("attribution.csv", func(w io.Writer) error {
			return attribution.WriteCSV(w, m.Attribution.Period, attributionColumns...)
		}); err != nil {
			return paths, err
		}
		if err := write("engagements.csv", func(w io.Writer) error { return writeEngagementsCSV(w, m.Engagements) }); err != nil {
			return paths, err
		}
	}
	err := write("report.html", r.WriteHTML)
	return paths, err
}

// stepColumns are the columns of steps.csv: a row per figure of a step;
// the rows of requests to a platform also carry the minimum of the
// step's work there, its floor, the limit that sets it and the
// efficiency (floor ÷ the step's time).
var stepColumns = []string{"step", "measure", "value", "seconds", "minimum", "floor_seconds", "floor_bound", "efficiency"}

func (r *Report) writeStepsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(stepColumns)
	for _, s := range r.Steps {
		secs := seconds(s.Elapsed)
		if s.Skipped != "" {
			_ = cw.Write([]string{s.Step, "skipped", s.Skipped, secs, "", "", "", ""})
		}
		for _, k := range s.Order {
			row := []string{s.Step, k, strconv.Itoa(s.Counts[k]), secs, "", "", "", ""}
			if m, ok := s.Minimum[strings.TrimPrefix(k, "requests ")]; ok && strings.HasPrefix(k, "requests ") {
				row[4], row[5], row[6], row[7] = strconv.Itoa(m.Requests), seconds(m.Floor), m.Bound, efficiency(m.Floor, s.Elapsed)
			}
			_ = cw.Write(row)
		}
		// Minimums without measured requests (no Meter) get rows of
		// their own.
		for _, p := range slices.Sorted(maps.Keys(s.Minimum)) {
			if _, ok := s.Requests(p); !ok {
				m := s.Minimum[p]
				_ = cw.Write([]string{s.Step, "requests " + p, "", secs, strconv.Itoa(m.Requests), seconds(m.Floor), m.Bound, efficiency(m.Floor, s.Elapsed)})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// seconds formats d in seconds, to the millisecond.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// efficiency is floor ÷ took, to three places; empty when took is zero.
func efficiency(floor, took time.Duration) string {
	if took <= 0 {
		return ""
	}
	return strconv.FormatFloat(floor.Seconds()/took.Seconds(), 'f', 3, 64)
}

// segmentColumns are the segment table's columns.
var segmentColumns = []string{"segment", "tag", "members", "joined", "left", "buyers", "repeaters", "repeat_rate", "orders", "revenue", "ltv"}

// writeSegmentTable writes one row per segment, as CSV or as aligned text.
func writeSegmentTable(w io.Writer, s *SegmentsResult, asCSV bool) error {
	rows := [][]string{segmentColumns}
	for i, rep := range s.Reports {
		m, plan := rep.Metrics, s.Plans[i]
		rows = append(rows, []string{rep.Name, rep.Tag, strconv.Itoa(m.Customers), strconv.Itoa(plan.Joined),
			strconv.Itoa(plan.Left), strconv.Itoa(m.Buyers), strconv.Itoa(m.Repeaters), m.RepeatRate().String(),
			strconv.Itoa(m.Orders), m.Revenue.String(), amounts(m.LTV())})
	}
	if asCSV {
		cw := csv.NewWriter(w)
		_ = cw.WriteAll(rows)
		return cw.Error()
	}
	return writeAligned(w, rows)
}

// amounts joins per-currency amounts with " + ".
func amounts(list []money.Amount) string {
	out := ""
	for i, a := range list {
		if i > 0 {
			out += " + "
		}
		out += a.String()
	}
	return out
}

// writeAligned writes rows as space-aligned columns.
func writeAligned(w io.Writer, rows [][]string) error {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		line := ""
		for i, c := range r {
			if i > 0 {
				line += "  "
			}
			line += fmt.Sprintf("%-*s", width[i], c)
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

func writeEngagementsCSV(w io.Writer, engs []attribution.Engagement) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"day", "utc_offset", "remote_id", "channel_handle", "impressions", "clicks", "sends", "views", "ad_spend", "orders", "sales"})
	str := func(a *money.Amount) string {
		if a == nil {
			return ""
		}
		return a.String()
	}
	credit := func(c *attribution.Credit) string {
		if c == nil {
			return ""
		}
		return c.String()
	}
	for _, e := range engs {
		_ = cw.Write([]string{e.OccurredOn.String(), e.UTCOffset, e.RemoteID, e.ChannelHandle,
			strconv.FormatInt(e.ImpressionsCount, 10), strconv.FormatInt(e.ClicksCount, 10),
			strconv.FormatInt(e.SendsCount, 10), strconv.FormatInt(e.ViewsCount, 10), str(e.AdSpend), credit(e.Orders), str(e.Sales)})
	}
	cw.Flush()
	return cw.Error()
}
