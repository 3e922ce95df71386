package tagging

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
)

// Defaults of a [Schema]. The seed documents the prefixes and the layouts of
// plan, product, cancel, skip-count, subscription-count, subscription-id and
// delivery tags; it names pause, rank and purchase-status tags without
// giving a layout, so those come from templates that can be replaced with
// [WithTemplate].
const (
	DefaultPrefix         = "subscription"
	DefaultDeliveryPrefix = "delivery"
	DefaultPauseTemplate  = "{prefix}-{id}-pause:{date}"
	DefaultRankTemplate   = "{prefix}-rank:{value}"
	DefaultStatusTemplate = "{prefix}-{id}-status:{value}"
)

// Schema is one store's tag grammar: the prefixes, the templates of the
// pause, rank and status tags, the purchase-count rules and the limits. It
// owns every tag it can parse and the tags of its rules; plans and lifecycle
// events never remove anything else.
//
// A Schema is immutable and safe for concurrent use. Build one with
// [NewSchema] or derive one with [Schema.With].
type Schema struct {
	cfg options

	prefix, delivery string      // as configured, for Format
	subLit, delLit   string      // "subscription-" and "delivery-", lower-cased for matching
	subRaw, delRaw   string      // the same as configured, for errors
	tmpl             [3]template // pause, rank, status
	rules            []rule
	ruleKeys         map[string]struct{} // fold keys of the rule tags, when there are many
	first            [256]bool           // bytes a tag of the schema can begin with
	wantStart        string
}

type rule struct {
	Rule
	plain bool // Tag is its own fold key
}

// manyRules is the rule count above which rule tags are looked up in a map
// rather than compared one by one.
const manyRules = 8

// An Option changes a default of [NewSchema].
type Option func(*options)

type options struct {
	prefix, delivery string
	templates        [3]string
	rules            []Rule
	maxLen, maxTags  int
	err              error
}

// WithPrefix replaces the "subscription" prefix of customer tags and of the
// subscription-count and subscription-id order tags. A prefix is text without
// commas, colons, control characters or surrounding whitespace.
func WithPrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// WithDeliveryPrefix replaces the "delivery" prefix of delivery tags.
func WithDeliveryPrefix(prefix string) Option { return func(o *options) { o.delivery = prefix } }

// WithTemplate replaces the layout of pause, rank or status tags. A template
// is literal text with placeholders:
//
//	{prefix}  the subscription prefix
//	{id}      the contract id (ASCII digits)
//	{date}    a YYYY-MM-DD date
//	{value}   free text (the rank or status); it must come last
//
// A template begins with text or {prefix}, uses each placeholder at most
// once, never puts two placeholders side by side, and never follows {id}
// with a digit. Pause templates need {id} and may have {date}; status
// templates need {id} and {value}; rank templates need {value} and may have
// {id} (a rank per contract rather than per customer). A template whose tags
// would read back as another kind is rejected.
func WithTemplate(k Kind, template string) Option {
	return func(o *options) {
		i, ok := tmplIndex(k)
		if !ok {
			o.err = &ConfigError{Option: "template", Value: template, Reason: k.String() + " tags have a fixed layout"}
			return
		}
		o.templates[i] = template
	}
}

// WithRules sets the purchase-count rules, replacing any set before. The
// schema owns the rules' tags.
func WithRules(rules ...Rule) Option {
	return func(o *options) { o.rules = append([]Rule(nil), rules...) }
}

// WithMaxLength overrides [MaxLength], the characters allowed in one tag.
func WithMaxLength(n int) Option { return func(o *options) { o.maxLen = n } }

// WithMaxTags overrides [MaxTags], the tags allowed on one resource.
func WithMaxTags(n int) Option { return func(o *options) { o.maxTags = n } }

// Rule is a purchase-count rule: when a contract's order count reaches At,
// the customer gets Tag. With Plan set, only contracts on that plan count:
// the plan is read from the contract's plan tag on the customer, and names
// compare as tags do, without regard to case. The tag stays while any
// contract of the customer qualifies. Rule tags are plain tags outside the
// grammar, such as "3回目購入".
type Rule struct {
	At   int
	Tag  string
	Plan string
}

func tmplIndex(k Kind) (int, bool) {
	switch k {
	case KindPause:
		return 0, true
	case KindRank:
		return 1, true
	case KindStatus:
		return 2, true
	}
	return 0, false
}

func defaults() options {
	return options{
		prefix:    DefaultPrefix,
		delivery:  DefaultDeliveryPrefix,
		templates: [3]string{DefaultPauseTemplate, DefaultRankTemplate, DefaultStatusTemplate},
		maxLen:    MaxLength,
		maxTags:   MaxTags,
	}
}

// defaultSchema backs the package-level functions; it is built once and
// never changed.
var defaultSchema = func() *Schema {
	s, err := build(defaults())
	if err != nil {
		panic(err)
	}
	return s
}()

// Default returns the schema with every default: the "subscription" and
// "delivery" prefixes, the default templates, no rules and Shopify's limits.
func Default() *Schema { return defaultSchema }

// NewSchema returns a schema with the defaults changed by opts. The error is
// a [*ConfigError].
func NewSchema(opts ...Option) (*Schema, error) { return defaultSchema.With(opts...) }

// With returns a schema like s with opts applied on top, for example s with
// a new rule set. s is not changed.
func (s *Schema) With(opts ...Option) (*Schema, error) {
	o := s.cfg
	o.rules = append([]Rule(nil), o.rules...)
	o.err = nil
	for _, opt := range opts {
		opt(&o)
	}
	if o.err != nil {
		return nil, o.err
	}
	return build(o)
}

func build(o options) (*Schema, error) {
	for _, p := range []struct{ name, v string }{{"prefix", o.prefix}, {"delivery prefix", o.delivery}} {
		if pos, want := checkText(p.v); pos >= 0 {
			return nil, &ConfigError{Option: p.name, Value: p.v, Reason: "expected " + want + " at offset " + strconv.Itoa(pos)}
		}
		if strings.IndexByte(p.v, ':') >= 0 {
			return nil, &ConfigError{Option: p.name, Value: p.v, Reason: "contains a colon"}
		}
	}
	if o.maxLen < 1 {
		return nil, &ConfigError{Option: "max length", Value: strconv.Itoa(o.maxLen), Reason: "must be at least 1"}
	}
	if o.maxTags < 1 {
		return nil, &ConfigError{Option: "max tags", Value: strconv.Itoa(o.maxTags), Reason: "must be at least 1"}
	}
	s := &Schema{
		cfg:      o,
		prefix:   o.prefix,
		delivery: o.delivery,
		subLit:   lowerLiteral(o.prefix + "-"),
		delLit:   lowerLiteral(o.delivery + "-"),
		subRaw:   o.prefix + "-",
		delRaw:   o.delivery + "-",
	}
	starts := []string{strconv.Quote(s.subRaw), strconv.Quote(s.delRaw)}
	s.mark(s.subLit[0])
	s.mark(s.delLit[0])
	for i, k := range [3]Kind{KindPause, KindRank, KindStatus} {
		t, err := compileTemplate(k, o.templates[i], o.prefix)
		if err != nil {
			return nil, err
		}
		s.tmpl[i] = t
		s.mark(t.parts[0].low[0])
		if !contains(starts, t.parts[0].want) {
			starts = append(starts, t.parts[0].want)
		}
	}
	s.wantStart = joinOr(starts)
	if err := s.selfCheck(); err != nil {
		return nil, err
	}
	for _, r := range o.rules {
		if err := s.addRule(r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// mark records that a tag can begin with c, in either ASCII case.
func (s *Schema) mark(c byte) {
	s.first[c] = true
	if 'a' <= c && c <= 'z' {
		s.first[c-'a'+'A'] = true
	}
}

// selfCheck formats a sample of every kind and reads it back, so a template
// that clashes with another kind fails here rather than on a customer.
func (s *Schema) selfCheck() error {
	for k := KindPlan; k < numKinds; k++ {
		t := s.sample(k)
		b, err := s.appendTag(nil, t)
		if err == nil {
			if got, ok := s.parse(string(b), nil); !ok || got != t {
				err = &FormatError{Kind: k, Reason: "reads back as " + got.Kind.String()}
			}
		}
		if err != nil {
			name, src := "prefix", s.prefix
			if i, ok := tmplIndex(k); ok {
				name, src = k.String()+" template", s.tmpl[i].src
			}
			return &ConfigError{Option: name, Value: src, Reason: "its tags do not read back: " + err.Error()}
		}
	}
	return nil
}

func (s *Schema) sample(k Kind) Tag {
	t := Tag{Kind: k}
	u := s.uses(k)
	if u.contract {
		t.Contract = "1234567890"
	}
	if u.value {
		t.Value = "Sample"
		if k == KindSubscriptionID {
			t.Value = "1234567890"
		}
	}
	if u.date {
		t.Date = calendar.NewDate(2006, time.January, 2)
	}
	if u.count {
		t.Count = 3
	}
	return t
}

func (s *Schema) addRule(r Rule) error {
	bad := func(reason string) error {
		return &ConfigError{Option: "rule", Value: r.Tag, Reason: reason}
	}
	if r.At < 1 {
		return bad("At must be at least 1, got " + strconv.Itoa(r.At))
	}
	if err := checkTag(r.Tag, s.cfg.maxLen); err != nil {
		return bad(strings.TrimPrefix(err.(*TagError).Error(), "tagging: "))
	}
	if t, ok := s.parse(r.Tag, nil); ok {
		return bad("is a " + t.Kind.String() + " tag of the schema")
	}
	if r.Plan != "" {
		if pos, want := checkText(r.Plan); pos >= 0 {
			return bad("plan " + strconv.Quote(r.Plan) + ": expected " + want + " at offset " + strconv.Itoa(pos))
		}
	}
	s.rules = append(s.rules, rule{Rule: r, plain: isPlain(r.Tag)})
	if len(s.rules) > manyRules {
		if s.ruleKeys == nil {
			s.ruleKeys = make(map[string]struct{})
			for _, r := range s.rules {
				s.ruleKeys[foldKey(r.Tag)] = struct{}{}
			}
		}
		s.ruleKeys[foldKey(r.Tag)] = struct{}{}
	}
	return nil
}

// Prefix returns the subscription prefix.
func (s *Schema) Prefix() string { return s.prefix }

// DeliveryPrefix returns the delivery prefix.
func (s *Schema) DeliveryPrefix() string { return s.delivery }

// Template returns the template of pause, rank or status tags, and "" for
// the other kinds.
func (s *Schema) Template(k Kind) string {
	if i, ok := tmplIndex(k); ok {
		return s.tmpl[i].src
	}
	return ""
}

// Rules returns a copy of the purchase-count rules.
func (s *Schema) Rules() []Rule { return append([]Rule(nil), s.cfg.rules...) }

// MaxLength returns the characters allowed in one tag.
func (s *Schema) MaxLength() int { return s.cfg.maxLen }

// MaxTags returns the tags allowed on one resource.
func (s *Schema) MaxTags() int { return s.cfg.maxTags }

// Check reports whether tag can be written as it is under the schema's
// limits; see the package function [Check].
func (s *Schema) Check(tag string) error { return checkTag(tag, s.cfg.maxLen) }

// Owns reports whether tag (trimmed) belongs to the schema: it parses as one
// of the schema's kinds or is the tag of one of its rules. Plans and events
// remove only owned tags.
func (s *Schema) Owns(tag string) bool { return s.owns(trimTag(tag)) }

func (s *Schema) owns(tag string) bool { return s.ownsPlain(tag, isPlain(tag)) }

// ownsPlain is owns for a tag whose isPlain the caller already knows.
func (s *Schema) ownsPlain(tag string, plain bool) bool {
	if tag == "" {
		return false
	}
	if s.first[tag[0]] {
		var t Tag
		if s.parseInto(tag, &t, nil) {
			return true
		}
	}
	return s.isRuleTag(tag, plain)
}

func (s *Schema) isRuleTag(tag string, plain bool) bool {
	if s.ruleKeys != nil {
		var buf [64]byte
		_, ok := s.ruleKeys[string(appendFoldKey(buf[:0], tag))]
		return ok
	}
	for i := range s.rules {
		if sameTag(tag, plain, s.rules[i].Tag, s.rules[i].plain) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// joinOr joins alternatives for an error message: "a", "a or b", "a, b or c".
func joinOr(alts []string) string {
	switch len(alts) {
	case 0:
		return ""
	case 1:
		return alts[0]
	}
	return strings.Join(alts[:len(alts)-1], ", ") + " or " + alts[len(alts)-1]
}
