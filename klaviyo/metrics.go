package klaviyo

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// MetricsService finds metrics and queries their aggregates.
type MetricsService struct{ c *Client }

// Metric is a Klaviyo metric (an event type): "Placed Order", "Opened
// Email", or one an integration or this client created.
type Metric struct {
	ID                  string
	Name                string
	IntegrationName     string
	IntegrationCategory string
	Created             time.Time
	Updated             time.Time
}

// The names of Klaviyo's native email metrics, as its help center lists
// them; each account has its own ids for them.
const (
	MetricReceivedEmail = "Received Email"
	MetricOpenedEmail   = "Opened Email"
	MetricClickedEmail  = "Clicked Email"
	MetricBouncedEmail  = "Bounced Email"
)

type metricWire struct {
	Name        string `json:"name"`
	Created     jtime  `json:"created"`
	Updated     jtime  `json:"updated"`
	Integration *struct {
		Name     string `json:"name"`
		Category any    `json:"category"`
	} `json:"integration"`
}

func toMetric(r resource[metricWire]) Metric {
	m := Metric{ID: r.ID, Name: r.Attributes.Name, Created: r.Attributes.Created.Time, Updated: r.Attributes.Updated.Time}
	if in := r.Attributes.Integration; in != nil {
		m.IntegrationName = in.Name
		if s, ok := in.Category.(string); ok {
			m.IntegrationCategory = s
		}
	}
	return m
}

// All returns every metric matching f (integration.name and
// integration.category: equals).
func (s *MetricsService) All(ctx context.Context, f Filter) iter.Seq2[Metric, error] {
	q := url.Values{}
	if err := metricRules.apply(q, f); err != nil {
		return failSeq[Metric](err)
	}
	return pages(s.c, ctx, EndpointGetMetrics, "/api/metrics", q, toMetric)
}

// ByName finds metrics by exact name; GET /api/metrics cannot filter on
// names, so it lists them all once. A name with no metric is missing from
// the map.
func (s *MetricsService) ByName(ctx context.Context, names ...string) (map[string]Metric, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]Metric{}
	for m, err := range s.All(ctx, nil) {
		if err != nil {
			return nil, err
		}
		if want[m.Name] {
			if _, dup := out[m.Name]; !dup {
				out[m.Name] = m
			}
		}
	}
	return out, nil
}

// Interval is the bucket of a metric aggregate.
type Interval string

// The intervals of the spec.
const (
	Hourly  Interval = "hour"
	Daily   Interval = "day"
	Weekly  Interval = "week"
	Monthly Interval = "month"
)

// AggregateQuery asks for a metric's measurements over a time range.
type AggregateQuery struct {
	MetricID string
	// From and To bound the range: From included, To excluded.
	From, To time.Time
	// Interval is the bucket (default Daily).
	Interval Interval
	// Timezone names the time zone of the buckets (default UTC).
	Timezone string
}

// Aggregate is a metric's counts per bucket: Count (events), Unique
// (distinct profiles) and SumValue (the events' values) for each date.
type Aggregate struct {
	Dates    []time.Time
	Count    []float64
	Unique   []float64
	SumValue []float64
}

// Aggregate queries count, unique and sum_value of a metric (POST
// /api/metric-aggregates), a read that is retried.
func (s *MetricsService) Aggregate(ctx context.Context, q AggregateQuery) (*Aggregate, *Response, error) {
	if err := checkID("MetricID", q.MetricID); err != nil {
		return nil, nil, err
	}
	if q.From.IsZero() || !q.From.Before(q.To) {
		return nil, nil, invalid("From", formatTime(q.From), "must be before To")
	}
	if q.Interval == "" {
		q.Interval = Daily
	}
	switch q.Interval {
	case Hourly, Daily, Weekly, Monthly:
	default:
		return nil, nil, invalid("Interval", string(q.Interval), "must be hour, day, week or month")
	}
	attrs := map[string]any{"metric_id": q.MetricID, "measurements": []string{"count", "unique", "sum_value"},
		"interval": q.Interval, "filter": []string{
			"greater-or-equal(datetime," + formatTime(q.From) + ")", "less-than(datetime," + formatTime(q.To) + ")"}}
	if q.Timezone != "" {
		attrs["timezone"] = q.Timezone
	}
	type wire struct {
		Dates []jtime `json:"dates"`
		Data  []struct {
			Measurements map[string][]float64 `json:"measurements"`
		} `json:"data"`
	}
	var doc document[resource[wire]]
	r, err := s.c.do(ctx, &call{ep: EndpointQueryMetricAggregates, method: http.MethodPost, path: "/api/metric-aggregates",
		body:  document[resource[map[string]any]]{resource[map[string]any]{Type: "metric-aggregate", Attributes: attrs}},
		retry: transport.RetryIdempotent, out: &doc})
	if err != nil {
		return nil, r, err
	}
	a := &Aggregate{}
	for _, d := range doc.Data.Attributes.Dates {
		a.Dates = append(a.Dates, d.Time)
	}
	if rows := doc.Data.Attributes.Data; len(rows) > 0 {
		m := rows[0].Measurements
		a.Count, a.Unique, a.SumValue = m["count"], m["unique"], m["sum_value"]
	}
	return a, r, nil
}

// EmailActivity aggregates Klaviyo's Received, Opened, Clicked and Bounced
// Email metrics per day over the days before now, keyed by metric name; a
// metric the account does not have yet is left out.
func (s *MetricsService) EmailActivity(ctx context.Context, days int, now time.Time) (map[string]*Aggregate, error) {
	if days < 1 {
		return nil, invalid("days", fmt.Sprint(days), "must be at least 1")
	}
	names := []string{MetricReceivedEmail, MetricOpenedEmail, MetricClickedEmail, MetricBouncedEmail}
	ms, err := s.ByName(ctx, names...)
	if err != nil {
		return nil, err
	}
	to := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	out := map[string]*Aggregate{}
	for _, n := range names {
		m, ok := ms[n]
		if !ok {
			continue
		}
		a, _, err := s.Aggregate(ctx, AggregateQuery{MetricID: m.ID, From: to.AddDate(0, 0, -days), To: to, Interval: Daily})
		if err != nil {
			return nil, err
		}
		out[n] = a
	}
	return out, nil
}
