package shopify

import (
	"context"
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/money"
)

// MarketingService manages external marketing activities (campaigns, ad
// groups and ads an app runs outside Shopify) and sends their daily
// engagement, so that the app shows in Shopify's marketing reports.
//
// Activities are addressed by their remote id, the app's own id. Upsert,
// Update and Delete are idempotent by that id and are retried like reads
// (network errors, 5xx, throttling); Create is retried only when Shopify
// refused it (throttling), since a second create of an activity without a
// remote id makes a second activity.
type MarketingService struct{ c *Client }

// MarketingTactic is how an activity reaches people (MarketingTactic).
type MarketingTactic string

// The marketing tactics of the 2025-01 schema.
const (
	TacticAbandonedCart MarketingTactic = "ABANDONED_CART"
	TacticAd            MarketingTactic = "AD"
	TacticAffiliate     MarketingTactic = "AFFILIATE"
	TacticLink          MarketingTactic = "LINK"
	TacticLoyalty       MarketingTactic = "LOYALTY"
	TacticMessage       MarketingTactic = "MESSAGE"
	TacticNewsletter    MarketingTactic = "NEWSLETTER"
	TacticNotification  MarketingTactic = "NOTIFICATION"
	TacticPost          MarketingTactic = "POST"
	TacticRetargeting   MarketingTactic = "RETARGETING"
	TacticTransactional MarketingTactic = "TRANSACTIONAL"
	TacticStorefrontApp MarketingTactic = "STOREFRONT_APP"
	TacticSEO           MarketingTactic = "SEO"
)

// MarketingChannel is the medium an activity uses (MarketingChannel).
type MarketingChannel string

// The marketing channels of the 2025-01 schema.
const (
	ChannelSearch   MarketingChannel = "SEARCH"
	ChannelDisplay  MarketingChannel = "DISPLAY"
	ChannelSocial   MarketingChannel = "SOCIAL"
	ChannelEmail    MarketingChannel = "EMAIL"
	ChannelReferral MarketingChannel = "REFERRAL"
)

// HierarchyLevel places an activity in the tree campaign → ad group → ad
// (MarketingActivityHierarchyLevel). An ad group's parent is a campaign; an
// ad's parent is a campaign or an ad group.
type HierarchyLevel string

// The hierarchy levels; the zero value is an activity outside the tree.
const (
	LevelCampaign HierarchyLevel = "CAMPAIGN"
	LevelAdGroup  HierarchyLevel = "AD_GROUP"
	LevelAd       HierarchyLevel = "AD"
)

// ActivityStatus is an external activity's status
// (MarketingActivityExternalStatus); Shopify answers with the wider
// MarketingActivityStatus, which adds DELETED, DISCONNECTED, DRAFT, FAILED
// and PENDING.
type ActivityStatus string

// The statuses an app may set.
const (
	StatusActive            ActivityStatus = "ACTIVE"
	StatusInactive          ActivityStatus = "INACTIVE"
	StatusPaused            ActivityStatus = "PAUSED"
	StatusScheduled         ActivityStatus = "SCHEDULED"
	StatusDeletedExternally ActivityStatus = "DELETED_EXTERNALLY"
	StatusUndefined         ActivityStatus = "UNDEFINED"
)

// BudgetType says whether a budget is per day or for the whole activity.
type BudgetType string

// The budget types.
const (
	BudgetDaily    BudgetType = "DAILY"
	BudgetLifetime BudgetType = "LIFETIME"
)

// Budget is an activity's budget.
type Budget struct {
	Type  BudgetType
	Total money.Amount
}

// Activity is an external marketing activity as the app describes it: the
// input of [MarketingService.Create], [MarketingService.Upsert] and
// [MarketingService.Update]. Zero values are fields left unset.
//
// HierarchyLevel, ParentRemoteID, UTM, URLParameterValue and ChannelHandle
// are fixed when the activity is created; Shopify refuses to change them
// (IMMUTABLE_* codes) and this package refuses before sending.
type Activity struct {
	// RemoteID is the app's id of the activity; required by Upsert,
	// Update and Delete.
	RemoteID  string
	Title     string // required
	RemoteURL string // required: the activity in the app
	// PreviewImageURL is remotePreviewImageUrl.
	PreviewImageURL string
	Tactic          MarketingTactic  // required
	Channel         MarketingChannel // marketingChannelType; required
	ReferringDomain string
	// Status defaults to UNDEFINED on Create; Upsert requires it.
	Status ActivityStatus

	// HierarchyLevel and ParentRemoteID place the activity in the tree;
	// a campaign has no parent, an ad group or ad needs one.
	HierarchyLevel HierarchyLevel
	ParentRemoteID string
	// UTM (campaign, source and medium; no content or term) or
	// URLParameterValue, never both, tie sessions to the activity; an
	// activity outside the tree needs one of them.
	UTM               *UTM
	URLParameterValue string
	ChannelHandle     string

	Budget  *Budget
	AdSpend *money.Amount // total spend so far

	ScheduledStart, ScheduledEnd, Start, End time.Time
}

// MarketingActivity is an activity as Shopify reports it.
type MarketingActivity struct {
	ID                string // GID
	Title             string
	Status            string // a MarketingActivityStatus
	Tactic            MarketingTactic
	Channel           MarketingChannel
	HierarchyLevel    HierarchyLevel
	ParentRemoteID    string
	URLParameterValue string
	UTM               *UTM
	Budget            *Budget
	AdSpend           *money.Amount
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// MarketingErrorCode is a MarketingActivityUserErrorCode. A *UserErrors
// of the marketing mutations matches, with errors.Is, the code of each of
// its entries; an *InputError refusing an immutable change wraps the code
// Shopify would have answered.
type MarketingErrorCode string

// Error returns the code.
func (c MarketingErrorCode) Error() string { return "shopify: marketing activity: " + string(c) }

// The userErrors codes of the marketing mutations (2025-01).
const (
	CodeInvalid                                     MarketingErrorCode = "INVALID"
	CodeTaken                                       MarketingErrorCode = "TAKEN"
	CodeActivityDoesNotExist                        MarketingErrorCode = "MARKETING_ACTIVITY_DOES_NOT_EXIST"
	CodeEventDoesNotExist                           MarketingErrorCode = "MARKETING_EVENT_DOES_NOT_EXIST"
	CodeCurrencyCodeMismatchInput                   MarketingErrorCode = "CURRENCY_CODE_MISMATCH_INPUT"
	CodeActivityCurrencyCodeMismatch                MarketingErrorCode = "MARKETING_ACTIVITY_CURRENCY_CODE_MISMATCH"
	CodeDeleteJobFailedToEnqueue                    MarketingErrorCode = "DELETE_JOB_FAILED_TO_ENQUEUE"
	CodeNonHierarchicalRequiresUTMURLParameter      MarketingErrorCode = "NON_HIERARCHIAL_REQUIRES_UTM_URL_PARAMETER"
	CodeDeleteJobEnqueued                           MarketingErrorCode = "DELETE_JOB_ENQUEUED"
	CodeActivityNotExternal                         MarketingErrorCode = "ACTIVITY_NOT_EXTERNAL"
	CodeImmutableChannelHandle                      MarketingErrorCode = "IMMUTABLE_CHANNEL_HANDLE"
	CodeImmutableURLParameter                       MarketingErrorCode = "IMMUTABLE_URL_PARAMETER"
	CodeImmutableUTMParameters                      MarketingErrorCode = "IMMUTABLE_UTM_PARAMETERS"
	CodeImmutableParentID                           MarketingErrorCode = "IMMUTABLE_PARENT_ID"
	CodeImmutableHierarchyLevel                     MarketingErrorCode = "IMMUTABLE_HIERARCHY_LEVEL"
	CodeInvalidRemoteID                             MarketingErrorCode = "INVALID_REMOTE_ID"
	CodeInvalidChannelHandle                        MarketingErrorCode = "INVALID_CHANNEL_HANDLE"
	CodeInvalidDeleteActivityExternalArguments      MarketingErrorCode = "INVALID_DELETE_ACTIVITY_EXTERNAL_ARGUMENTS"
	CodeInvalidDeleteEngagementsArguments           MarketingErrorCode = "INVALID_DELETE_ENGAGEMENTS_ARGUMENTS"
	CodeInvalidActivityExternalArguments            MarketingErrorCode = "INVALID_MARKETING_ACTIVITY_EXTERNAL_ARGUMENTS"
	CodeInvalidEngagementArguments                  MarketingErrorCode = "INVALID_MARKETING_ENGAGEMENT_ARGUMENTS"
	CodeInvalidEngagementArgumentMissing            MarketingErrorCode = "INVALID_MARKETING_ENGAGEMENT_ARGUMENT_MISSING"
	CodeCannotDeleteActivityWithChildEvents         MarketingErrorCode = "CANNOT_DELETE_ACTIVITY_WITH_CHILD_EVENTS"
	CodeCannotUpdateTacticToStorefrontApp           MarketingErrorCode = "CANNOT_UPDATE_TACTIC_TO_STOREFRONT_APP"
	CodeCannotUpdateTacticIfOriginallyStorefrontApp MarketingErrorCode = "CANNOT_UPDATE_TACTIC_IF_ORIGINALLY_STOREFRONT_APP"
)

// Is reports whether an entry carries the code target (a
// [MarketingErrorCode]).
func (e *UserErrors) Is(target error) bool {
	c, ok := target.(MarketingErrorCode)
	if !ok {
		return false
	}
	for _, u := range e.Errors {
		if u.Code == string(c) {
			return true
		}
	}
	return false
}

// activitySelection is what the mutations read back.
const activitySelection = `marketingActivity { id title status tactic marketingChannelType hierarchyLevel parentRemoteId urlParameterValue
utmParameters { campaign source medium } budget { budgetType total { amount currencyCode } } adSpend { amount currencyCode } createdAt updatedAt }
userErrors { code field message }`

type wireActivity struct {
	ID                string           `json:"id"`
	Title             string           `json:"title"`
	Status            string           `json:"status"`
	Tactic            MarketingTactic  `json:"tactic"`
	Channel           MarketingChannel `json:"marketingChannelType"`
	HierarchyLevel    *HierarchyLevel  `json:"hierarchyLevel"`
	ParentRemoteID    *string          `json:"parentRemoteId"`
	URLParameterValue *string          `json:"urlParameterValue"`
	UTM               *struct {
		Campaign, Source, Medium *string
	} `json:"utmParameters"`
	Budget *struct {
		BudgetType BudgetType   `json:"budgetType"`
		Total      money.Amount `json:"total"`
	} `json:"budget"`
	AdSpend   *money.Amount `json:"adSpend"`
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

func (w *wireActivity) activity() *MarketingActivity {
	a := &MarketingActivity{ID: w.ID, Title: w.Title, Status: w.Status, Tactic: w.Tactic, Channel: w.Channel,
		HierarchyLevel: deref(w.HierarchyLevel), ParentRemoteID: deref(w.ParentRemoteID), URLParameterValue: deref(w.URLParameterValue),
		AdSpend: w.AdSpend, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if u := w.UTM; u != nil {
		a.UTM = &UTM{Campaign: deref(u.Campaign), Source: deref(u.Source), Medium: deref(u.Medium)}
	}
	if b := w.Budget; b != nil {
		a.Budget = &Budget{Type: b.BudgetType, Total: b.Total}
	}
	return a
}

type activityPayload struct {
	MarketingActivity *wireActivity `json:"marketingActivity"`
	userErrorsPayload
}

// userErrorsPayload is the userErrors every mutation payload carries.
type userErrorsPayload struct {
	UserErrors userErrorList `json:"userErrors"`
}

func (p *userErrorsPayload) errs() userErrorList { return p.UserErrors }

// mutateOne sends a document holding the one mutation op and returns its
// payload, or the error of the request, of a missing payload or of the
// payload's userErrors.
func mutateOne[P any, PP interface {
	*P
	errs() userErrorList
}](ctx context.Context, c *Client, op, q string, vars map[string]any, retry transport.RetryClass) (PP, *Response, error) {
	var out map[string]PP
	resp, err := c.do(ctx, &call{query: q, vars: vars, cost: mutationCost, retry: retry}, &out)
	if err != nil {
		return nil, resp, err
	}
	p := out[op]
	if p == nil {
		return nil, resp, errNoPayload(op)
	}
	if err := c.mutationErrors(op, p.errs()); err != nil {
		return nil, resp, err
	}
	return p, resp, nil
}

// Create creates an external activity (marketingActivityCreateExternal).
// A RemoteID already taken is a *UserErrors matching [CodeTaken]. Create
// is retried only on throttling: after a lost answer, check with Upsert
// (same remote id) rather than creating again.
//
//spec:graphql mutation marketingActivityCreateExternal
func (s *MarketingService) Create(ctx context.Context, a Activity) (*MarketingActivity, *Response, error) {
	if err := checkActivity(a, false); err != nil {
		return nil, nil, err
	}
	return s.activityCall(ctx, "marketingActivityCreateExternal", "MarketingActivityCreateExternalInput!", activityInput(a), nil, ifRefused)
}

// Upsert creates the activity a.RemoteID or replaces its mutable fields
// (marketingActivityUpsertExternal). Shopify clears the optional fields a
// leaves unset, so pass the whole activity every time. prev, when not nil,
// is the activity as the app last sent it: a change to a field fixed at
// creation (hierarchy level, parent, UTM, URL parameter, channel handle)
// is then an *InputError before anything is sent, wrapping the IMMUTABLE_*
// code Shopify would answer. Upsert is idempotent and retried like a read.
//
//spec:graphql mutation marketingActivityUpsertExternal
func (s *MarketingService) Upsert(ctx context.Context, a Activity, prev *Activity) (*MarketingActivity, *Response, error) {
	if err := checkActivity(a, true); err != nil {
		return nil, nil, err
	}
	if prev != nil {
		if err := CheckActivityChange(*prev, a); err != nil {
			return nil, nil, err
		}
	}
	return s.activityCall(ctx, "marketingActivityUpsertExternal", "MarketingActivityUpsertExternalInput!", activityInput(a), nil, idempotent)
}

// Update changes the mutable fields of the activity prev.RemoteID to those
// of next (marketingActivityUpdateExternal): title, URLs, tactic, channel,
// referring domain, status, budget, ad spend and schedule; unset fields of
// next are left as they are. A change to a field fixed at creation is an
// *InputError, as for Upsert. Update is idempotent and retried like a read.
//
//spec:graphql mutation marketingActivityUpdateExternal
func (s *MarketingService) Update(ctx context.Context, prev, next Activity) (*MarketingActivity, *Response, error) {
	if prev.RemoteID == "" {
		return nil, nil, &InputError{Field: "prev.RemoteID", Reason: "required: activities are updated by remote id"}
	}
	if next.RemoteID != "" && next.RemoteID != prev.RemoteID {
		return nil, nil, &InputError{Field: "next.RemoteID", Value: short(next.RemoteID), Reason: "differs from prev.RemoteID"}
	}
	if err := CheckActivityChange(prev, next); err != nil {
		return nil, nil, err
	}
	if err := checkMoney(next); err != nil {
		return nil, nil, err
	}
	in := map[string]any{}
	putMutable(in, next)
	if len(in) == 0 {
		return nil, nil, &InputError{Field: "next", Reason: "no mutable field set"}
	}
	return s.activityCall(ctx, "marketingActivityUpdateExternal", "MarketingActivityUpdateExternalInput!", in,
		map[string]any{"remoteId": prev.RemoteID}, idempotent)
}

func (s *MarketingService) activityCall(ctx context.Context, op, inputType string, in, extra map[string]any, retry transport.RetryClass) (*MarketingActivity, *Response, error) {
	vars := map[string]any{"input": in}
	params, args := "$input: "+inputType, "input: $input"
	if id, ok := extra["remoteId"]; ok {
		vars["remoteId"] = id
		params += ", $remoteId: String"
		args += ", remoteId: $remoteId"
	}
	q := "mutation " + op + "(" + params + ") { " + op + "(" + args + ") { " + activitySelection + " } }"
	p, resp, err := mutateOne[activityPayload](ctx, s.c, op, q, vars, retry)
	if err != nil {
		return nil, resp, err
	}
	if p.MarketingActivity == nil {
		return nil, resp, errNoPayload(op)
	}
	return p.MarketingActivity.activity(), resp, nil
}

// Delete deletes the activity remoteID (marketingActivityDeleteExternal)
// and with it its engagement data, and returns the deleted activity's GID.
// An activity with children is refused ([CodeCannotDeleteActivityWithChildEvents]):
// delete the ads, then the groups, then the campaign. An activity that does
// not exist is a *UserErrors matching [CodeActivityDoesNotExist], which a
// caller retrying a lost answer may take for success. Delete is idempotent
// and retried like a read.
//
//spec:graphql mutation marketingActivityDeleteExternal
func (s *MarketingService) Delete(ctx context.Context, remoteID string) (string, *Response, error) {
	if remoteID == "" {
		return "", nil, &InputError{Field: "remoteID", Reason: "required"}
	}
	const op = "marketingActivityDeleteExternal"
	q := "mutation " + op + "($remoteId: String) { " + op + "(remoteId: $remoteId) { deletedMarketingActivityId userErrors { code field message } } }"
	p, resp, err := mutateOne[struct {
		DeletedMarketingActivityID *string `json:"deletedMarketingActivityId"`
		userErrorsPayload
	}](ctx, s.c, op, q, map[string]any{"remoteId": remoteID}, idempotent)
	if err != nil {
		return "", resp, err
	}
	return deref(p.DeletedMarketingActivityID), resp, nil
}

func errNoPayload(op string) error {
	return &shopcrm.ResponseError{Op: op, Reason: "no payload in the answer"}
}

// CheckActivityChange returns an *InputError when next changes a field of
// prev fixed at creation: HierarchyLevel, ParentRemoteID, UTM,
// URLParameterValue or ChannelHandle. The error wraps the IMMUTABLE_* code
// Shopify would answer, so errors.Is(err, CodeImmutableParentID) holds.
func CheckActivityChange(prev, next Activity) error {
	bad := func(field, old, now string, code MarketingErrorCode) error {
		return &InputError{Field: field, Value: short(now), Reason: fmt.Sprintf("fixed at creation (was %q)", old), Err: code}
	}
	utm := func(u *UTM) string {
		if u == nil {
			return ""
		}
		return u.Campaign + "/" + u.Source + "/" + u.Medium
	}
	switch {
	case prev.HierarchyLevel != next.HierarchyLevel:
		return bad("HierarchyLevel", string(prev.HierarchyLevel), string(next.HierarchyLevel), CodeImmutableHierarchyLevel)
	case prev.ParentRemoteID != next.ParentRemoteID:
		return bad("ParentRemoteID", prev.ParentRemoteID, next.ParentRemoteID, CodeImmutableParentID)
	case utm(prev.UTM) != utm(next.UTM):
		return bad("UTM", utm(prev.UTM), utm(next.UTM), CodeImmutableUTMParameters)
	case prev.URLParameterValue != next.URLParameterValue:
		return bad("URLParameterValue", prev.URLParameterValue, next.URLParameterValue, CodeImmutableURLParameter)
	case prev.ChannelHandle != next.ChannelHandle:
		return bad("ChannelHandle", prev.ChannelHandle, next.ChannelHandle, CodeImmutableChannelHandle)
	}
	return nil
}

// checkActivity validates an activity for create (upsert: for upsert).
func checkActivity(a Activity, upsert bool) error {
	req := []struct{ field, v string }{{"Title", a.Title}, {"RemoteURL", a.RemoteURL}, {"Tactic", string(a.Tactic)}, {"Channel", string(a.Channel)}}
	if upsert {
		req = append(req, struct{ field, v string }{"RemoteID", a.RemoteID}, struct{ field, v string }{"Status", string(a.Status)})
	}
	for _, r := range req {
		if r.v == "" {
			return &InputError{Field: r.field, Reason: "required"}
		}
	}
	if u := a.UTM; u != nil && (u.Campaign == "" || u.Source == "" || u.Medium == "") {
		return &InputError{Field: "UTM", Reason: "campaign, source and medium are all required"}
	}
	if u := a.UTM; u != nil && (u.Content != "" || u.Term != "") {
		return &InputError{Field: "UTM", Reason: "an activity's UTM has no content or term"}
	}
	if a.UTM != nil && a.URLParameterValue != "" {
		return &InputError{Field: "URLParameterValue", Reason: "set UTM or URLParameterValue, not both", Err: CodeInvalidActivityExternalArguments}
	}
	switch a.HierarchyLevel {
	case "":
		if a.ParentRemoteID != "" {
			return &InputError{Field: "HierarchyLevel", Reason: "required with ParentRemoteID"}
		}
		if a.UTM == nil && a.URLParameterValue == "" {
			return &InputError{Field: "UTM", Reason: "an activity outside the hierarchy needs UTM or URLParameterValue", Err: CodeNonHierarchicalRequiresUTMURLParameter}
		}
	case LevelCampaign:
		if a.ParentRemoteID != "" {
			return &InputError{Field: "ParentRemoteID", Value: short(a.ParentRemoteID), Reason: "a campaign has no parent"}
		}
	case LevelAdGroup, LevelAd:
		if a.ParentRemoteID == "" {
			return &InputError{Field: "ParentRemoteID", Reason: "required for " + string(a.HierarchyLevel)}
		}
	default:
		return &InputError{Field: "HierarchyLevel", Value: short(string(a.HierarchyLevel)), Reason: "not CAMPAIGN, AD_GROUP or AD"}
	}
	return checkMoney(a)
}

func checkMoney(a Activity) error {
	if a.Budget != nil && a.AdSpend != nil && a.Budget.Total.Currency != a.AdSpend.Currency {
		return &InputError{Field: "AdSpend", Value: string(a.AdSpend.Currency), Reason: "currency differs from the budget's " + string(a.Budget.Total.Currency), Err: CodeCurrencyCodeMismatchInput}
	}
	return nil
}

// activityInput builds a create or upsert input.
func activityInput(a Activity) map[string]any {
	in := map[string]any{}
	putMutable(in, a)
	put := func(k, v string) {
		if v != "" {
			in[k] = v
		}
	}
	put("remoteId", a.RemoteID)
	put("channelHandle", a.ChannelHandle)
	put("hierarchyLevel", string(a.HierarchyLevel))
	put("parentRemoteId", a.ParentRemoteID)
	put("urlParameterValue", a.URLParameterValue)
	if u := a.UTM; u != nil {
		in["utm"] = map[string]any{"campaign": u.Campaign, "source": u.Source, "medium": u.Medium}
	}
	return in
}

// putMutable sets the fields marketingActivityUpdateExternal accepts.
func putMutable(in map[string]any, a Activity) {
	put := func(k, v string) {
		if v != "" {
			in[k] = v
		}
	}
	put("title", a.Title)
	put("remoteUrl", a.RemoteURL)
	put("remotePreviewImageUrl", a.PreviewImageURL)
	put("tactic", string(a.Tactic))
	put("marketingChannelType", string(a.Channel))
	put("referringDomain", a.ReferringDomain)
	put("status", string(a.Status))
	for k, t := range map[string]time.Time{"scheduledStart": a.ScheduledStart, "scheduledEnd": a.ScheduledEnd, "start": a.Start, "end": a.End} {
		if !t.IsZero() {
			in[k] = t.UTC().Format(time.RFC3339)
		}
	}
	if b := a.Budget; b != nil {
		in["budget"] = map[string]any{"budgetType": string(b.Type), "total": b.Total}
	}
	if a.AdSpend != nil {
		in["adSpend"] = *a.AdSpend
	}
}
