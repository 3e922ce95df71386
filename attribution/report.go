package attribution

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm/ratio"
)

// column is one report column: how a row prints in the text table (for
// people) and in CSV (for programs).
type column struct {
	name       string
	table, csv func(*Row) string
	right      bool // numbers align right in the table
}

func count(f func(*Row) int64) func(*Row) string {
	return func(r *Row) string { return strconv.FormatInt(f(r), 10) }
}

func text(name string, f func(*Row) string) column {
	return column{name: name, table: f, csv: f}
}

func num(name string, f func(*Row) string) column {
	return column{name: name, table: f, csv: f, right: true}
}

// rate is a ratio column: a percentage in the table, a plain decimal in
// CSV.
func rate(name string, f func(*Row) ratio.Ratio) column {
	return column{name: name, table: func(r *Row) string { return f(r).Percent(2) }, csv: func(r *Row) string { return f(r).Decimal() }, right: true}
}

// allColumns lists every report column in default order. It is built on
// demand so the package keeps no mutable globals.
func allColumns() []column {
	return []column{
		text("level", func(r *Row) string { return r.Level.String() }),
		text("channel", func(r *Row) string { return r.Key.Channel }),
		text("campaign", func(r *Row) string { return r.Key.Campaign }),
		text("ad_group", func(r *Row) string { return r.Key.AdGroup }),
		text("ad", func(r *Row) string { return r.Key.Ad }),
		text("from", func(r *Row) string { return r.From.String() }),
		text("to", func(r *Row) string { return r.To.String() }),
		num("impressions", count(func(r *Row) int64 { return r.Impressions })),
		num("clicks", count(func(r *Row) int64 { return r.Clicks })),
		num("spend", func(r *Row) string { return r.Spend.String() }),
		num("sends", count(func(r *Row) int64 { return r.Sends })),
		num("opens", count(func(r *Row) int64 { return r.Opens })),
		num("message_clicks", count(func(r *Row) int64 { return r.MessageClicks })),
		num("bounces", count(func(r *Row) int64 { return r.Bounces })),
		num("unsubscribes", count(func(r *Row) int64 { return r.Unsubscribes })),
		num("complaints", count(func(r *Row) int64 { return r.Complaints })),
		num("conversions", func(r *Row) string { return r.Conversions.String() }),
		num("first_time", func(r *Row) string { return r.FirstTime.String() }),
		num("returning", func(r *Row) string { return r.Returning.String() }),
		num("revenue", func(r *Row) string { return r.Revenue.String() }),
		rate("ctr", func(r *Row) ratio.Ratio { return r.CTR() }),
		num("cpc", func(r *Row) string { return r.CPC().String() }),
		num("cpm", func(r *Row) string { return r.CPM().String() }),
		num("cpa", func(r *Row) string { return r.CPA().String() }),
		{name: "roas", right: true,
			table: func(r *Row) string {
				return formatROAS(r.ROAS(), func(x ratio.Ratio) string {
					if v, ok := x.Float(); ok {
						return strconv.FormatFloat(v, 'f', 2, 64)
					}
					return undefined
				})
			},
			csv: func(r *Row) string { return formatROAS(r.ROAS(), ratio.Ratio.Decimal) }},
		rate("conversion_rate", func(r *Row) ratio.Ratio { return r.ConversionRate() }),
		rate("open_rate", func(r *Row) ratio.Ratio { return r.OpenRate() }),
		rate("click_rate", func(r *Row) ratio.Ratio { return r.ClickRate() }),
		rate("bounce_rate", func(r *Row) ratio.Ratio { return r.BounceRate() }),
	}
}

// Columns returns the names of all report columns in their default order.
func Columns() []string {
	cs := allColumns()
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.name
	}
	return names
}

// pick returns the named columns, or all of them for no names.
func pick(names []string) ([]column, error) {
	all := allColumns()
	if len(names) == 0 {
		return all, nil
	}
	out := make([]column, 0, len(names))
next:
	for _, n := range names {
		for _, c := range all {
			if c.name == n {
				out = append(out, c)
				continue next
			}
		}
		return nil, fmt.Errorf("attribution: unknown report column %q (see Columns)", n)
	}
	return out, nil
}

// WriteTable writes rows as an aligned text table with a header line,
// showing the named columns ([Columns]; all of them when none are named).
// Rates print as percentages with two decimals, ROAS with two decimals,
// money as "12.50 USD" (several currencies joined with " + "), and a KPI
// with a zero denominator as "undefined".
func WriteTable(w io.Writer, rows []Row, columns ...string) error {
	cols, err := pick(columns)
	if err != nil {
		return err
	}
	cells := make([][]string, 0, len(rows)+1)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = c.name
	}
	cells = append(cells, head)
	for i := range rows {
		line := make([]string, len(cols))
		for j, c := range cols {
			line[j] = c.table(&rows[i])
		}
		cells = append(cells, line)
	}
	width := make([]int, len(cols))
	for _, line := range cells {
		for j, s := range line {
			width[j] = max(width[j], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	for _, line := range cells {
		b.Reset()
		for j, s := range line {
			pad := spaces(width[j] - utf8.RuneCountInString(s))
			if j > 0 {
				b.WriteString("  ")
			}
			if cols[j].right {
				b.WriteString(pad)
				b.WriteString(s)
			} else {
				b.WriteString(s)
				b.WriteString(pad)
			}
		}
		if _, err := io.WriteString(w, strings.TrimRight(b.String(), " ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func spaces(n int) string { return strings.Repeat(" ", n) }

// WriteCSV writes rows as CSV with a header line, showing the named columns
// ([Columns]; all of them when none are named). Ratios are plain decimals
// ("0.25", not "25%"), money is "12.50 USD", credit is a decimal with up to
// six places, and an undefined KPI is "undefined".
func WriteCSV(w io.Writer, rows []Row, columns ...string) error {
	cols, err := pick(columns)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for i := range rows {
		for j, c := range cols {
			rec[j] = c.csv(&rows[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
