package klaviyotest

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"
)

func metricJSON(r *http.Request, m *metric) map[string]any {
	return map[string]any{"type": "metric", "id": m.id,
		"attributes": map[string]any{"name": m.name, "created": timeStr(m.created), "updated": timeStr(m.updated),
			"integration": map[string]any{"name": m.integration, "category": m.integration}},
		"links": map[string]any{"self": baseURL(r) + "/api/metrics/" + m.id + "/"}}
}

func (s *Server) listMetrics(w http.ResponseWriter, r *http.Request, q url.Values) {
	if !checkQuery(w, q, "filter", "page[cursor]") {
		return
	}
	terms, ok := filterOf(w, r, rules{"integration.name": {"equals"}, "integration.category": {"equals"}})
	if !ok {
		return
	}
	out := filterItems(slices.Collect(maps.Values(s.st.metrics)), terms, func(m *metric, _ string) any { return m.integration })
	sortBy(out, func(m *metric) any { return m.id }, false)
	page(w, r, out, 200, 200, func(m *metric) any { return metricJSON(r, m) })
}

// metricAggregates counts a metric's stored events per interval over the
// time range of the filter: measurements count, sum_value and unique
// (distinct profiles), intervals hour, day, week and month in UTC. Grouping
// (by), other filters and time zones are refused: the fake does not model
// them.
func (s *Server) metricAggregates(w http.ResponseWriter, r *http.Request, body []byte) {
	res, ok := decode(w, body, "metric-aggregate")
	if !ok {
		return
	}
	var a struct {
		MetricID     string   `json:"metric_id"`
		Measurements []string `json:"measurements"`
		Interval     string   `json:"interval"`
		Filter       []string `json:"filter"`
		By           []string `json:"by"`
		Timezone     string   `json:"timezone"`
	}
	raw, _ := json.Marshal(res.Attributes)
	if err := json.Unmarshal(raw, &a); err != nil {
		invalidAt(w, "/data/attributes", "Invalid attributes: %v.", err)
		return
	}
	m := s.st.metrics[a.MetricID]
	if m == nil {
		invalidAt(w, "/data/attributes/metric_id", "Metric not found.")
		return
	}
	if len(a.By) > 0 || (a.Timezone != "" && a.Timezone != "UTC") {
		invalidAt(w, "/data/attributes/by", "The fake does not model grouping or time zones.")
		return
	}
	if len(a.Measurements) == 0 {
		invalidAt(w, "/data/attributes/measurements", "At least one measurement is required.")
		return
	}
	for _, x := range a.Measurements {
		if x != "count" && x != "sum_value" && x != "unique" {
			invalidAt(w, "/data/attributes/measurements", "Unknown measurement %q.", x)
			return
		}
	}
	var from, to time.Time
	for _, f := range a.Filter {
		terms, err := parseFilter(f)
		if err != nil || len(terms) != 1 || terms[0].field != "datetime" {
			invalidAt(w, "/data/attributes/filter", "The fake models only datetime filters, not %q.", f)
			return
		}
		t, _ := terms[0].values[0].(time.Time)
		switch terms[0].op {
		case "greater-or-equal":
			from = t
		case "less-than":
			to = t
		default:
			invalidAt(w, "/data/attributes/filter", "Use greater-or-equal and less-than on datetime.")
			return
		}
	}
	if from.IsZero() || to.IsZero() || !from.Before(to) || to.Sub(from) > 366*24*time.Hour {
		invalidAt(w, "/data/attributes/filter", "A time range of at most a year is required.")
		return
	}
	if a.Interval == "" {
		a.Interval = "day"
	}
	var dates []time.Time
	for d := truncate(from, a.Interval); d.Before(to); d = step(d, a.Interval) {
		if d.IsZero() {
			invalidAt(w, "/data/attributes/interval", "Unknown interval %q.", a.Interval)
			return
		}
		dates = append(dates, d)
	}
	count := make([]float64, len(dates))
	sum := make([]float64, len(dates))
	uniq := make([]map[string]bool, len(dates))
	for _, e := range s.st.events {
		if e.metricID != m.id || e.at.Before(from) || !e.at.Before(to) {
			continue
		}
		i, _ := slices.BinarySearchFunc(dates, e.at, func(d, t time.Time) int {
			if d.After(t) {
				return 1
			}
			return -1
		})
		i--
		count[i]++
		if e.value != nil {
			sum[i] += *e.value
		}
		if uniq[i] == nil {
			uniq[i] = map[string]bool{}
		}
		uniq[i][e.who()] = true
	}
	meas := map[string]any{}
	for _, x := range a.Measurements {
		switch x {
		case "count":
			meas[x] = count
		case "sum_value":
			meas[x] = sum
		case "unique":
			u := make([]float64, len(dates))
			for i := range uniq {
				u[i] = float64(len(uniq[i]))
			}
			meas[x] = u
		}
	}
	ds := make([]any, len(dates))
	for i, d := range dates {
		ds[i] = timeStr(d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"type": "metric-aggregate", "id": newUUID(),
		"attributes": map[string]any{"dates": ds, "data": []any{map[string]any{"dimensions": []string{}, "measurements": meas}}},
		"links":      map[string]any{"self": baseURL(r) + "/api/metric-aggregates/"}}})
}

func truncate(t time.Time, interval string) time.Time {
	t = t.UTC()
	switch interval {
	case "hour":
		return t.Truncate(time.Hour)
	case "day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case "week":
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, -int(d.Weekday()))
	case "month":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}

func step(t time.Time, interval string) time.Time {
	switch interval {
	case "hour":
		return t.Add(time.Hour)
	case "day":
		return t.AddDate(0, 0, 1)
	case "week":
		return t.AddDate(0, 0, 7)
	case "month":
		return t.AddDate(0, 1, 0)
	}
	return time.Time{}
}
