package shopifytest

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
)

//go:embed schema_marketing.graphql
var marketingSDL string

// MarketingActivity is an external marketing activity as the fake holds it.
// Empty strings and nil pointers are fields that were not set.
type MarketingActivity struct {
	ID                int64
	RemoteID          string
	Title             string
	RemoteURL         string
	Status            string // a MarketingActivityExternalStatus
	Tactic            string
	Channel           string // marketingChannelType
	ChannelHandle     string
	ReferringDomain   string
	HierarchyLevel    string
	ParentRemoteID    string
	URLParameterValue string
	UTM               *UTM
	AdSpend           *money.Amount
	BudgetType        string
	BudgetTotal       *money.Amount
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// GID returns the activity's global id.
func (a MarketingActivity) GID() string { return gid.New(gid.MarketingActivity, a.ID).String() }

// UTM is an activity's UTM parameters.
type UTM struct{ Campaign, Source, Medium string }

// MarketingEngagement is one engagement the fake received. Every call of
// marketingEngagementCreate adds one, also for a day that already has one:
// Shopify documents no replacement, so the fake keeps both and a test can
// count them.
type MarketingEngagement struct {
	// RemoteID is the activity's remote id for activity-level engagements
	// (also when it was addressed by marketingActivityId); ChannelHandle
	// is set for channel-level ones.
	RemoteID      string
	ChannelHandle string
	OccurredOn    string // YYYY-MM-DD
	UTCOffset     string
	IsCumulative  bool
	// Counts holds the Int fields sent (impressionsCount, clicksCount, ...).
	Counts  map[string]int64
	AdSpend *money.Amount
	Sales   *money.Amount
	// Orders, FirstTimeCustomers and ReturningCustomers are the Decimal
	// strings sent, empty when absent.
	Orders, FirstTimeCustomers, ReturningCustomers string
}

type marketingState struct {
	acts map[int64]*MarketingActivity
	engs []MarketingEngagement
}

func (m *marketingState) init() {
	if m.acts == nil {
		m.acts = map[int64]*MarketingActivity{}
	}
}

func (m *marketingState) byRemote(id string) *MarketingActivity {
	for _, a := range m.acts {
		if a.RemoteID == id && id != "" {
			return a
		}
	}
	return nil
}

// MarketingActivities returns the external marketing activities, by id.
func (s *Server) MarketingActivities() []MarketingActivity {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MarketingActivity, 0, len(s.mkt.acts))
	for _, a := range sortedValues(s.mkt.acts) {
		out = append(out, *a)
	}
	return out
}

// MarketingActivityByRemoteID returns the activity with that remote id.
func (s *Server) MarketingActivityByRemoteID(remoteID string) (MarketingActivity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.mkt.byRemote(remoteID); a != nil {
		return *a, true
	}
	return MarketingActivity{}, false
}

// MarketingEngagements returns every engagement received, in arrival
// order, duplicates included.
func (s *Server) MarketingEngagements() []MarketingEngagement {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MarketingEngagement, len(s.mkt.engs))
	for i, e := range s.mkt.engs {
		e.Counts = maps.Clone(e.Counts)
		out[i] = e
	}
	return out
}

// withMarketing serves the marketing mutations on top of root.
func (s *Server) withMarketing(root *obj, now time.Time) *obj {
	m := s.marketingMutations(now)
	return &obj{typ: root.typ, get: func(f string, args map[string]any) (any, error) {
		if r, ok := m[f]; ok {
			return r(args)
		}
		return root.get(f, args)
	}}
}

// merrs is a payload's userErrors: ue alone, or none when it is nil.
func merrs(ue *obj) []*obj {
	if ue == nil {
		return []*obj{}
	}
	return []*obj{ue}
}

func merr(code string, field []string, msg string) *obj {
	return fields("MarketingActivityUserError", map[string]any{"code": code, "field": field, "message": msg})
}

func moneyIn(v any) (*money.Amount, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil
	}
	a, err := money.Parse(fmt.Sprint(m["amount"]), money.Currency(str(m["currencyCode"])))
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func utmIn(v any) *UTM {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return &UTM{Campaign: str(m["campaign"]), Source: str(m["source"]), Medium: str(m["medium"])}
}

func activityObj(a *MarketingActivity) *obj {
	var spend, budget, utm any
	if a.AdSpend != nil {
		spend = moneyObj(*a.AdSpend)
	}
	if a.BudgetTotal != nil {
		budget = fields("MarketingBudget", map[string]any{"budgetType": a.BudgetType, "total": moneyObj(*a.BudgetTotal)})
	}
	if a.UTM != nil {
		utm = fields("UTMParameters", map[string]any{"campaign": a.UTM.Campaign, "source": a.UTM.Source, "medium": a.UTM.Medium, "content": nil, "term": nil})
	}
	var level any
	if a.HierarchyLevel != "" {
		level = a.HierarchyLevel
	}
	return fields("MarketingActivity", map[string]any{
		"id": a.GID(), "title": a.Title, "status": a.Status, "tactic": a.Tactic, "marketingChannelType": a.Channel,
		"hierarchyLevel": level, "parentRemoteId": nullable(a.ParentRemoteID), "urlParameterValue": nullable(a.URLParameterValue),
		"utmParameters": utm, "adSpend": spend, "budget": budget, "isExternal": true,
		"createdAt": ts(a.CreatedAt), "updatedAt": ts(a.UpdatedAt),
	})
}

// levelRank orders the hierarchy: a parent ranks below its children.
var levelRank = map[string]int{"CAMPAIGN": 1, "AD_GROUP": 2, "AD": 3}

// fillActivity sets a's fields from an input object; absent optional fields clear
// the value (upsert's documented behaviour; create starts empty).
func fillActivity(a *MarketingActivity, in map[string]any) *obj {
	a.Title, a.RemoteURL, a.Tactic, a.Channel = str(in["title"]), str(in["remoteUrl"]), str(in["tactic"]), str(in["marketingChannelType"])
	a.Status = str(in["status"])
	if a.Status == "" {
		a.Status = "UNDEFINED"
	}
	a.ReferringDomain = str(in["referringDomain"])
	spend, err := moneyIn(in["adSpend"])
	if err != nil {
		return merr("INVALID", []string{"input", "adSpend"}, err.Error())
	}
	a.AdSpend, a.BudgetType, a.BudgetTotal = spend, "", nil
	if b, ok := in["budget"].(map[string]any); ok {
		total, err := moneyIn(b["total"])
		if err != nil {
			return merr("INVALID", []string{"input", "budget", "total"}, err.Error())
		}
		a.BudgetType, a.BudgetTotal = str(b["budgetType"]), total
	}
	if a.AdSpend != nil && a.BudgetTotal != nil && a.AdSpend.Currency != a.BudgetTotal.Currency {
		return merr("CURRENCY_CODE_MISMATCH_INPUT", []string{"input", "adSpend"}, "Currency code is not matching between budget and ad spend")
	}
	return nil
}

// checkNew validates the fields of a new activity fixed at creation.
func (m *marketingState) checkNew(a *MarketingActivity) *obj {
	if a.UTM != nil && a.URLParameterValue != "" {
		return merr("INVALID_MARKETING_ACTIVITY_EXTERNAL_ARGUMENTS", []string{"input"}, "Either the UTM or the URL parameter value can be set, not both")
	}
	if a.HierarchyLevel == "" {
		if a.ParentRemoteID != "" {
			return merr("INVALID", []string{"input", "hierarchyLevel"}, "A child activity needs a hierarchy level")
		}
		if a.UTM == nil && a.URLParameterValue == "" {
			return merr("NON_HIERARCHIAL_REQUIRES_UTM_URL_PARAMETER", []string{"input"}, "Non-hierarchical marketing activities must have UTM parameters or a URL parameter value")
		}
		return nil
	}
	if a.HierarchyLevel == "CAMPAIGN" {
		if a.ParentRemoteID != "" {
			return merr("INVALID", []string{"input", "parentRemoteId"}, "A campaign has no parent")
		}
		return nil
	}
	p := m.byRemote(a.ParentRemoteID)
	if p == nil {
		return merr("MARKETING_ACTIVITY_DOES_NOT_EXIST", []string{"input", "parentRemoteId"}, "Parent marketing activity does not exist")
	}
	if levelRank[p.HierarchyLevel] == 0 || levelRank[p.HierarchyLevel] >= levelRank[a.HierarchyLevel] || a.HierarchyLevel == "AD_GROUP" && p.HierarchyLevel != "CAMPAIGN" {
		return merr("INVALID", []string{"input", "hierarchyLevel"}, fmt.Sprintf("A %s cannot be the child of a %s", a.HierarchyLevel, p.HierarchyLevel))
	}
	return nil
}

// immutable compares the fields fixed at creation.
func immutable(old, in *MarketingActivity) *obj {
	switch {
	case old.HierarchyLevel != in.HierarchyLevel:
		return merr("IMMUTABLE_HIERARCHY_LEVEL", []string{"input", "hierarchyLevel"}, "Hierarchy level cannot be changed")
	case old.ParentRemoteID != in.ParentRemoteID:
		return merr("IMMUTABLE_PARENT_ID", []string{"input", "parentRemoteId"}, "Parent cannot be changed")
	case (old.UTM == nil) != (in.UTM == nil) || old.UTM != nil && *old.UTM != *in.UTM:
		return merr("IMMUTABLE_UTM_PARAMETERS", []string{"input", "utm"}, "UTM parameters cannot be changed")
	case old.URLParameterValue != in.URLParameterValue:
		return merr("IMMUTABLE_URL_PARAMETER", []string{"input", "urlParameterValue"}, "URL parameter value cannot be changed")
	case old.ChannelHandle != in.ChannelHandle:
		return merr("IMMUTABLE_CHANNEL_HANDLE", []string{"input", "channelHandle"}, "Channel handle cannot be changed")
	}
	return nil
}

func (s *Server) marketingMutations(now time.Time) map[string]resolver {
	m := &s.mkt
	m.init()
	actPayload := func(typ string, a *MarketingActivity, ue *obj) *obj {
		var act any
		if ue == nil && a != nil {
			act = activityObj(a)
		}
		return fields(typ, map[string]any{"marketingActivity": act, "userErrors": merrs(ue)})
	}
	createOrUpsert := func(typ string, upsert bool) resolver {
		return func(args map[string]any) (any, error) {
			in, _ := args["input"].(map[string]any)
			a := &MarketingActivity{
				RemoteID: str(in["remoteId"]), ChannelHandle: str(in["channelHandle"]), HierarchyLevel: str(in["hierarchyLevel"]),
				ParentRemoteID: str(in["parentRemoteId"]), URLParameterValue: str(in["urlParameterValue"]), UTM: utmIn(in["utm"]),
			}
			if pid := str(in["parentActivityId"]); pid != "" {
				id, err := gid.Parse(pid)
				p := m.acts[id.Num]
				if err != nil || p == nil {
					return actPayload(typ, nil, merr("MARKETING_ACTIVITY_DOES_NOT_EXIST", []string{"input", "parentActivityId"}, "Parent marketing activity does not exist")), nil
				}
				a.ParentRemoteID = p.RemoteID
			}
			old := m.byRemote(a.RemoteID)
			if old != nil && !upsert {
				return actPayload(typ, nil, merr("TAKEN", []string{"input", "remoteId"}, "Remote ID has already been taken")), nil
			}
			if old != nil {
				if ue := immutable(old, a); ue != nil {
					return actPayload(typ, nil, ue), nil
				}
				next := *old
				if ue := fillActivity(&next, in); ue != nil {
					return actPayload(typ, nil, ue), nil
				}
				next.UpdatedAt = now
				*old = next
				return actPayload(typ, old, nil), nil
			}
			if ue := m.checkNew(a); ue != nil {
				return actPayload(typ, nil, ue), nil
			}
			if ue := fillActivity(a, in); ue != nil {
				return actPayload(typ, nil, ue), nil
			}
			a.ID, a.CreatedAt, a.UpdatedAt = s.newID(), now, now
			m.acts[a.ID] = a
			return actPayload(typ, a, nil), nil
		}
	}
	find := func(args map[string]any) (*MarketingActivity, []string) {
		if id := str(args["marketingActivityId"]); id != "" {
			g, err := gid.Parse(id)
			if err != nil {
				return nil, []string{"marketingActivityId"}
			}
			return m.acts[g.Num], []string{"marketingActivityId"}
		}
		if u := utmIn(args["utm"]); u != nil {
			for _, a := range sortedValues(m.acts) {
				if a.UTM != nil && *a.UTM == *u {
					return a, []string{"utm"}
				}
			}
			return nil, []string{"utm"}
		}
		return m.byRemote(str(args["remoteId"])), []string{"remoteId"}
	}
	return map[string]resolver{
		"marketingActivityCreateExternal": createOrUpsert("MarketingActivityCreateExternalPayload", false),
		"marketingActivityUpsertExternal": createOrUpsert("MarketingActivityUpsertExternalPayload", true),
		"marketingActivityUpdateExternal": func(args map[string]any) (any, error) {
			const typ = "MarketingActivityUpdateExternalPayload"
			a, field := find(args)
			if a == nil {
				return actPayload(typ, nil, merr("MARKETING_ACTIVITY_DOES_NOT_EXIST", field, "Marketing activity does not exist")), nil
			}
			in, _ := args["input"].(map[string]any)
			next := *a
			for k, dst := range map[string]*string{"title": &next.Title, "remoteUrl": &next.RemoteURL, "tactic": &next.Tactic,
				"marketingChannelType": &next.Channel, "referringDomain": &next.ReferringDomain, "status": &next.Status} {
				if v, ok := in[k].(string); ok {
					*dst = v
				}
			}
			if _, ok := in["adSpend"]; ok {
				spend, err := moneyIn(in["adSpend"])
				if err != nil {
					return actPayload(typ, nil, merr("INVALID", []string{"input", "adSpend"}, err.Error())), nil
				}
				next.AdSpend = spend
			}
			if b, ok := in["budget"].(map[string]any); ok {
				total, err := moneyIn(b["total"])
				if err != nil {
					return actPayload(typ, nil, merr("INVALID", []string{"input", "budget", "total"}, err.Error())), nil
				}
				next.BudgetType, next.BudgetTotal = str(b["budgetType"]), total
			}
			if next.AdSpend != nil && next.BudgetTotal != nil && next.AdSpend.Currency != next.BudgetTotal.Currency {
				return actPayload(typ, nil, merr("CURRENCY_CODE_MISMATCH_INPUT", []string{"input", "adSpend"}, "Currency code is not matching between budget and ad spend")), nil
			}
			next.UpdatedAt = now
			*a = next
			return actPayload(typ, a, nil), nil
		},
		"marketingActivityDeleteExternal": func(args map[string]any) (any, error) {
			payload := func(id any, ue *obj) *obj {
				return fields("MarketingActivityDeleteExternalPayload", map[string]any{"deletedMarketingActivityId": id, "userErrors": merrs(ue)})
			}
			if (str(args["remoteId"]) == "") == (str(args["marketingActivityId"]) == "") {
				return payload(nil, merr("INVALID_DELETE_ACTIVITY_EXTERNAL_ARGUMENTS", nil, "Either the marketing activity ID or the remote ID must be given")), nil
			}
			a, field := find(args)
			if a == nil {
				return payload(nil, merr("MARKETING_ACTIVITY_DOES_NOT_EXIST", field, "Marketing activity does not exist")), nil
			}
			for _, c := range m.acts {
				if c.ParentRemoteID == a.RemoteID && a.RemoteID != "" {
					return payload(nil, merr("CANNOT_DELETE_ACTIVITY_WITH_CHILD_EVENTS", field, "Cannot delete an activity with child activities")), nil
				}
			}
			delete(m.acts, a.ID)
			m.engs = slices.DeleteFunc(m.engs, func(e MarketingEngagement) bool { return e.ChannelHandle == "" && e.RemoteID == a.RemoteID })
			return payload(a.GID(), nil), nil
		},
		"marketingEngagementCreate": func(args map[string]any) (any, error) {
			payload := func(e *MarketingEngagement, ue *obj) *obj {
				var eng any
				if ue == nil {
					eng = fields("MarketingEngagement", map[string]any{"channelHandle": nullable(e.ChannelHandle),
						"occurredOn": e.OccurredOn, "utcOffset": e.UTCOffset, "isCumulative": e.IsCumulative})
				}
				return fields("MarketingEngagementCreatePayload", map[string]any{"marketingEngagement": eng, "userErrors": merrs(ue)})
			}
			n := 0
			for _, k := range []string{"marketingActivityId", "remoteId", "channelHandle"} {
				if _, ok := args[k].(string); ok {
					n++
				}
			}
			switch {
			case n == 0:
				return payload(nil, merr("INVALID_MARKETING_ENGAGEMENT_ARGUMENT_MISSING", nil, "Either marketingActivityId, remoteId or channelHandle must be given")), nil
			case n > 1:
				return payload(nil, merr("INVALID_MARKETING_ENGAGEMENT_ARGUMENTS", nil, "Only one of marketingActivityId, remoteId or channelHandle may be given")), nil
			}
			in, _ := args["marketingEngagement"].(map[string]any)
			e := MarketingEngagement{OccurredOn: str(in["occurredOn"]), UTCOffset: str(in["utcOffset"]), Counts: map[string]int64{}}
			e.IsCumulative, _ = in["isCumulative"].(bool)
			if h, ok := args["channelHandle"].(string); ok {
				if strings.TrimSpace(h) == "" {
					return payload(nil, merr("INVALID_CHANNEL_HANDLE", []string{"channelHandle"}, "Channel handle is invalid")), nil
				}
				e.ChannelHandle = h
			} else {
				a, field := find(args)
				if a == nil {
					return payload(nil, merr("MARKETING_ACTIVITY_DOES_NOT_EXIST", field, "Marketing activity does not exist")), nil
				}
				e.RemoteID = a.RemoteID
			}
			if _, err := time.Parse(time.DateOnly, e.OccurredOn); err != nil {
				return payload(nil, merr("INVALID_MARKETING_ENGAGEMENT_ARGUMENTS", []string{"marketingEngagement", "occurredOn"}, "occurredOn is not a date")), nil
			}
			if _, err := time.Parse("-07:00", e.UTCOffset); err != nil {
				return payload(nil, merr("INVALID_MARKETING_ENGAGEMENT_ARGUMENTS", []string{"marketingEngagement", "utcOffset"}, "utcOffset is not +HH:MM")), nil
			}
			for k, v := range in {
				if strings.HasSuffix(k, "Count") {
					n, _ := intArg(v)
					e.Counts[k] = int64(n)
				}
			}
			var err error
			if e.AdSpend, err = moneyIn(in["adSpend"]); err == nil {
				e.Sales, err = moneyIn(in["sales"])
			}
			if err != nil {
				return payload(nil, merr("INVALID_MARKETING_ENGAGEMENT_ARGUMENTS", []string{"marketingEngagement"}, err.Error())), nil
			}
			e.Orders, e.FirstTimeCustomers, e.ReturningCustomers = decStr(in["orders"]), decStr(in["firstTimeCustomers"]), decStr(in["returningCustomers"])
			m.engs = append(m.engs, e)
			return payload(&e, nil), nil
		},
		"marketingEngagementsDelete": func(args map[string]any) (any, error) {
			payload := func(result any, ue *obj) *obj {
				return fields("MarketingEngagementsDeletePayload", map[string]any{"result": result, "userErrors": merrs(ue)})
			}
			h, all := str(args["channelHandle"]), args["deleteEngagementsForAllChannels"] == true
			if (h == "") == !all {
				return payload(nil, merr("INVALID_DELETE_ENGAGEMENTS_ARGUMENTS", nil, "Either channelHandle or deleteEngagementsForAllChannels must be given")), nil
			}
			m.engs = slices.DeleteFunc(m.engs, func(e MarketingEngagement) bool { return e.ChannelHandle != "" && (all || e.ChannelHandle == h) })
			if all {
				return payload("Engagement data marked for deletion for all channels", nil), nil
			}
			return payload("Engagement data marked for deletion for 1 channel(s)", nil), nil
		},
	}
}

func decStr(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
