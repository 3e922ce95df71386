package pipeline

import (
	"bytes"
	"encoding/csv"
	"html/template"
	"io"
	"strconv"

	"github.com/shopcrm/shopcrm/attribution"
)

// bar is one bar of a chart.
type bar struct {
	Label string
	Value float64
	Text  string // the value as shown
}

// chart is a horizontal bar chart drawn as inline SVG.
type chart struct {
	Title string
	Bars  []bar
}

// svgBar is a bar laid out for the template.
type svgBar struct {
	bar
	Y, W float64
}

const (
	chartLabelW = 220.0
	chartBarW   = 420.0
	chartRowH   = 26.0
)

// Layout places the bars: widths relative to the largest value.
func (c chart) Layout() []svgBar {
	top := 0.0
	for _, b := range c.Bars {
		top = max(top, b.Value)
	}
	out := make([]svgBar, len(c.Bars))
	for i, b := range c.Bars {
		w := 0.0
		if top > 0 {
			w = b.Value / top * chartBarW
		}
		out[i] = svgBar{bar: b, Y: float64(i) * chartRowH, W: w}
	}
	return out
}

// Height is the SVG's height.
func (c chart) Height() float64 { return float64(len(c.Bars))*chartRowH + 4 }

// table is a titled table for the template.
type table struct {
	Title string
	Head  []string
	Rows  [][]string
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>shopcrm day {{.Day}} — {{.Shop}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0 0 2em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
th{background:#f3f3f3}
svg text{font:12px system-ui,sans-serif}
</style></head><body>
<h1>Day {{.Day}} for {{.Shop}}</h1>
{{range .Charts}}<h2>{{.Title}}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Layout}}<text x="0" y="{{.Y}}" dy="17">{{.Label}}</text>
<rect x="220" y="{{.Y}}" width="{{.W}}" height="20" fill="#4a7bd0"></rect>
<text x="{{.W}}" y="{{.Y}}" dx="226" dy="15">{{.Text}}</text>
{{end}}</svg>
{{end}}{{range .Tables}}<h2>{{.Title}}</h2>
<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}</body></html>
`))

// WriteHTML writes the report as one self-contained HTML page (no
// external assets): charts of segment members and of attributed revenue
// and conversions by channel, and the report's tables.
func (r *Report) WriteHTML(w io.Writer) error {
	data := struct {
		Shop, Day string
		Charts    []chart
		Tables    []table
	}{Shop: r.Shop, Day: r.Day.String()}

	steps := table{Title: "Steps", Head: stepColumns}
	if rows, err := csvRows(r.writeStepsCSV); err == nil && len(rows) > 1 {
		steps.Rows = rows[1:]
	}
	data.Tables = append(data.Tables, steps)

	if s := r.Segments; s != nil && len(s.Reports) > 0 {
		members := chart{Title: "Segment members"}
		for i, rep := range s.Reports {
			p := s.Plans[i]
			members.Bars = append(members.Bars, bar{Label: rep.Name, Value: float64(rep.Metrics.Customers),
				Text: strconv.Itoa(rep.Metrics.Customers) + " (+" + strconv.Itoa(p.Joined) + " −" + strconv.Itoa(p.Left) + ")"})
		}
		data.Charts = append(data.Charts, members)
		if rows, err := csvRows(func(w io.Writer) error { return writeSegmentTable(w, s, true) }); err == nil {
			data.Tables = append(data.Tables, table{Title: "Segments", Head: rows[0], Rows: rows[1:]})
		}
	}
	if m := r.Marketing; m != nil && m.Attribution != nil {
		revenue := chart{Title: "Attributed revenue by channel (" + m.Attribution.Model.String() + ")"}
		convs := chart{Title: "Attributed conversions by channel"}
		for _, row := range m.Attribution.Period {
			if row.Level != attribution.ChannelLevel {
				continue
			}
			var v float64
			if a := row.Revenue.Amounts(); len(a) > 0 {
				v = float64(a[0].Minor)
			}
			revenue.Bars = append(revenue.Bars, bar{Label: row.Key.Channel, Value: v, Text: row.Revenue.String()})
			convs.Bars = append(convs.Bars, bar{Label: row.Key.Channel, Value: row.Conversions.Float(), Text: row.Conversions.String()})
		}
		data.Charts = append(data.Charts, revenue, convs)
		if rows, err := csvRows(func(w io.Writer) error {
			return attribution.WriteCSV(w, m.Attribution.Period, attributionColumns...)
		}); err == nil {
			data.Tables = append(data.Tables, table{Title: "Attribution", Head: rows[0], Rows: rows[1:]})
		}
	}
	return page.Execute(w, data)
}

// csvRows runs a CSV writer and reads its rows back.
func csvRows(write func(io.Writer) error) ([][]string, error) {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return nil, err
	}
	return csv.NewReader(&b).ReadAll()
}
