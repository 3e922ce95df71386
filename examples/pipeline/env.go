package pipeline

import (
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/tagging"
)

// Clients are the platform clients of one shop. A nil client skips the
// steps, or the parts of steps, that need it.
type Clients struct {
	Shopify  *shopify.Client
	LINE     *line.Client
	Omnisend *omnisend.Client
	Klaviyo  *klaviyo.Client
}

// Config is what one shop's day is about.
type Config struct {
	// Shop is the shop's myshopify domain; it is part of every
	// idempotency key, so that shops sharing a LINE channel or a state
	// directory never collide.
	Shop string
	// Day is the day being run, in Location.
	Day      calendar.Date
	Location *time.Location // nil: UTC
	// Schema is the subscription tag grammar; nil: tagging.Default().
	Schema *tagging.Schema
	// Segments are mirrored to tags by [Segments].
	Segments []segment.Definition
	// LINEMessage, when set, is the message [SendLINE] sends.
	LINEMessage *LINESend
	// OmnisendEvents, when set, are the customer events [SyncOmnisend]
	// sends.
	OmnisendEvents *OmnisendEvents
	// KlaviyoSync, when set, is what [SyncKlaviyo] does.
	KlaviyoSync *KlaviyoSync
	// Marketing, when set, is what [Marketing] attributes and sends back.
	Marketing *MarketingInput
	// BulkPoll is how often a bulk export's status is read; zero is the
	// Shopify client's default (a fake finishes in milliseconds, so tests
	// poll faster).
	BulkPoll time.Duration
	// Apply writes; false plans and reports only (a dry run).
	Apply bool
	// Progress, when set, hears about long steps as they go.
	Progress func(step string, p shopcrm.Progress)
}

// LINESend is the day's LINE message to one segment's members.
type LINESend struct {
	Segment  string // a Config.Segments name
	Messages []line.Message
	// UserID maps a Shopify customer GID to the customer's LINE user id;
	// customers without one are skipped. The link is the caller's: LINE
	// Login, an account-link webhook, or the app that sets the tag "line".
	UserID func(customer string) (string, bool)
}

// MarketingInput is the day's marketing data from outside Shopify.
type MarketingInput struct {
	// ChannelHandle is the app's marketing channel in Shopify, under which
	// channel-level engagements are sent.
	ChannelHandle string
	// Channels are the attribution channels that are the app's own: their
	// engagements are sent to Shopify; others are only reported.
	Channels []string
	// Activities are upserted (by remote id) before engagements are sent.
	Activities []shopify.Activity
	Spend      []attribution.Spend
	Messages   []attribution.Messages
	Model      attribution.Model // zero: last non-direct click
	// Lookback is how far before the day orders are read to attribute the
	// day's conversions to earlier visits; zero: 30 days.
	Lookback time.Duration
}

// Env is everything a step needs.
type Env struct {
	Config
	Clients
	State *State
	// Meter, when set, counts the clients' requests (their HTTP clients
	// must come from it); RunDay then reports each step's requests per
	// platform.
	Meter *Meter
}

// check validates the parts of e every step relies on.
func (e *Env) check() error {
	switch {
	case e.Shop == "":
		return &shopcrm.InputError{Field: "Config.Shop", Reason: "must not be empty"}
	case e.Day.IsZero():
		return &shopcrm.InputError{Field: "Config.Day", Reason: "must be set"}
	case e.State == nil:
		return &shopcrm.InputError{Field: "Env.State", Reason: "must be set (NewState)"}
	}
	return nil
}

func (e *Env) loc() *time.Location {
	if e.Location == nil {
		return time.UTC
	}
	return e.Location
}

func (e *Env) schema() *tagging.Schema {
	if e.Schema == nil {
		return tagging.Default()
	}
	return e.Schema
}

// dayStart is the first instant of the day in the shop's zone.
func (e *Env) dayStart() time.Time { return e.Day.Start(e.loc()) }

// dayEnd is the last instant of the day: the evaluation time of the day.
func (e *Env) dayEnd() time.Time { return e.Day.AddDays(1).Start(e.loc()).Add(-time.Nanosecond) }

func (e *Env) progress(step string, p shopcrm.Progress) {
	if e.Progress != nil {
		e.Progress(step, p)
	}
}

// StepReport is what a step did.
type StepReport struct {
	Step    string
	Skipped string // why the step did not run; empty when it ran
	DryRun  bool
	Elapsed time.Duration
	// Counts are the step's figures by name, in Order.
	Counts map[string]int
	Order  []string
	// Notes are lines worth reading: failures, unknown outcomes.
	Notes []string
	// Minimum is, by platform ([PlatformShopify] ...), the least the
	// step's work allows: compare it with the measured "requests
	// <platform>" count and Elapsed. RunDay's steps set it; Redact does
	// not.
	Minimum map[string]Minimum
}

func newStep(name string, dry bool) *StepReport {
	return &StepReport{Step: name, DryRun: dry, Counts: map[string]int{}}
}

// add adds n to the count called name.
func (r *StepReport) add(name string, n int) {
	if _, ok := r.Counts[name]; !ok {
		r.Order = append(r.Order, name)
	}
	r.Counts[name] += n
}

// need files the minimum of the step's work on platform.
func (r *StepReport) need(platform string, m Minimum) {
	if r.Minimum == nil {
		r.Minimum = map[string]Minimum{}
	}
	r.Minimum[platform] = m
}

// VersusMinimum is one line setting the step's requests to platform and
// its time beside the minimum of its work there: "omnisend: 531 requests
// (minimum 528), 246.0 s (floor 240.0 s at 60 contact-tags calls/min,
// efficiency 0.976)". Without a measured count, only the minimum.
func (r *StepReport) VersusMinimum(platform string) string {
	m := r.Minimum[platform]
	floor := fmt.Sprintf("%.1f s", m.Floor.Seconds())
	if m.Bound != "" {
		floor += " at " + m.Bound
	}
	n, ok := r.Requests(platform)
	if !ok {
		return fmt.Sprintf("%s: minimum %d requests, floor %s", platform, m.Requests, floor)
	}
	s := fmt.Sprintf("%s: %d requests (minimum %d), %.1f s (floor %s", platform, n, m.Requests, r.Elapsed.Seconds(), floor)
	if e := efficiency(m.Floor, r.Elapsed); e != "" && m.Floor > 0 {
		s += ", efficiency " + e
	}
	return s + ")"
}

// Requests returns the requests the step made to platform, as [RunDay]
// counted them with the Env's [Meter]; false when they were not counted.
func (r *StepReport) Requests(platform string) (int, bool) {
	n, ok := r.Counts["requests "+platform]
	return n, ok
}

func (r *StepReport) notef(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// String is one line: the step, its counts and time.
func (r *StepReport) String() string {
	if r.Skipped != "" {
		return r.Step + ": skipped (" + r.Skipped + ")"
	}
	s := r.Step + ":"
	if r.DryRun {
		s += " [dry run]"
	}
	for _, k := range r.Order {
		s += fmt.Sprintf(" %s=%d", k, r.Counts[k])
	}
	return s + fmt.Sprintf(" (%s)", r.Elapsed.Round(time.Millisecond))
}
