package klaviyotest

import (
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/shopcrm/shopcrm/klaviyo"
)

// opToken is the OAuth token endpoint, outside the rate limits and the
// API's authentication.
const opToken klaviyo.Endpoint = "oauth_token"

// routed is a request's operation and its path id.
type routed struct {
	op  klaviyo.Endpoint
	id  string
	pre any // the body decoded outside the lock, for the heavy operations
}

// route maps a request to its operationId; op is empty for a path the
// fake does not serve.
func route(method, path string) routed {
	if path == "/oauth/token" && method == http.MethodPost {
		return routed{op: opToken}
	}
	rest, ok := strings.CutPrefix(path, "/api/")
	if !ok {
		return routed{}
	}
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	type key struct {
		method string
		shape  string
	}
	shape := seg[0]
	id := ""
	if len(seg) > 1 {
		id = seg[1]
		shape += "/{id}"
		if len(seg) > 2 {
			shape += "/" + strings.Join(seg[2:], "/")
		}
	}
	ops := map[key]klaviyo.Endpoint{
		{"GET", "profiles"}:                                    klaviyo.EndpointGetProfiles,
		{"POST", "profiles"}:                                   klaviyo.EndpointCreateProfile,
		{"GET", "profiles/{id}"}:                               klaviyo.EndpointGetProfile,
		{"PATCH", "profiles/{id}"}:                             klaviyo.EndpointUpdateProfile,
		{"POST", "profile-import"}:                             klaviyo.EndpointUpsertProfile,
		{"POST", "profile-bulk-import-jobs"}:                   klaviyo.EndpointImportProfiles,
		{"GET", "profile-bulk-import-jobs/{id}"}:               klaviyo.EndpointGetImportJob,
		{"GET", "profile-bulk-import-jobs/{id}/import-errors"}: klaviyo.EndpointGetImportErrors,
		{"POST", "events"}:                                     klaviyo.EndpointCreateEvent,
		{"GET", "events"}:                                      klaviyo.EndpointGetEvents,
		{"POST", "event-bulk-create-jobs"}:                     klaviyo.EndpointBulkCreateEvents,
		{"GET", "lists"}:                                       klaviyo.EndpointGetLists,
		{"POST", "lists"}:                                      klaviyo.EndpointCreateList,
		{"GET", "lists/{id}"}:                                  klaviyo.EndpointGetList,
		{"GET", "lists/{id}/profiles"}:                         klaviyo.EndpointGetListProfiles,
		{"POST", "lists/{id}/relationships/profiles"}:          klaviyo.EndpointAddToList,
		{"DELETE", "lists/{id}/relationships/profiles"}:        klaviyo.EndpointRemoveFromList,
		{"GET", "segments"}:                                    klaviyo.EndpointGetSegments,
		{"GET", "segments/{id}/profiles"}:                      klaviyo.EndpointGetSegmentProfiles,
		{"POST", "profile-subscription-bulk-create-jobs"}:      klaviyo.EndpointSubscribe,
		{"POST", "profile-subscription-bulk-delete-jobs"}:      klaviyo.EndpointUnsubscribe,
		{"POST", "profile-suppression-bulk-create-jobs"}:       klaviyo.EndpointSuppress,
		{"POST", "profile-suppression-bulk-delete-jobs"}:       klaviyo.EndpointUnsuppress,
		{"GET", "metrics"}:                                     klaviyo.EndpointGetMetrics,
		{"POST", "metric-aggregates"}:                          klaviyo.EndpointQueryMetricAggregates,
		{"GET", "webhooks"}:                                    klaviyo.EndpointGetWebhooks,
		{"POST", "webhooks"}:                                   klaviyo.EndpointCreateWebhook,
		{"DELETE", "webhooks/{id}"}:                            klaviyo.EndpointDeleteWebhook,
		{"GET", "webhook-topics"}:                              klaviyo.EndpointGetWebhookTopics,
		{"POST", "data-privacy-deletion-jobs"}:                 klaviyo.EndpointRequestDeletion,
	}
	op, ok := ops[key{method, shape}]
	if !ok {
		return routed{}
	}
	return routed{op: op, id: id}
}

// queryChecked are the operations whose handlers check their own query
// parameters; the others take none the fake models, and refuse any.
var queryChecked = map[klaviyo.Endpoint]bool{
	klaviyo.EndpointGetProfiles: true, klaviyo.EndpointGetProfile: true, klaviyo.EndpointGetImportErrors: true,
	klaviyo.EndpointGetEvents: true, klaviyo.EndpointGetLists: true, klaviyo.EndpointGetListProfiles: true,
	klaviyo.EndpointGetSegments: true, klaviyo.EndpointGetSegmentProfiles: true, klaviyo.EndpointGetMetrics: true,
	klaviyo.EndpointGetWebhooks: true,
}

// act carries out an admitted request (s.mu held).
func (s *Server) act(w *httptest.ResponseRecorder, r *http.Request, body []byte, rt routed) {
	s.settleJobs()
	q := r.URL.Query()
	if !queryChecked[rt.op] && !checkQuery(w, q) {
		return
	}
	switch rt.op {
	case klaviyo.EndpointGetProfiles:
		s.listProfiles(w, r, q)
	case klaviyo.EndpointCreateProfile:
		s.createProfile(w, r, body)
	case klaviyo.EndpointGetProfile:
		s.getProfile(w, r, rt.id, q)
	case klaviyo.EndpointUpdateProfile:
		s.updateProfile(w, r, rt.id, body)
	case klaviyo.EndpointUpsertProfile:
		s.upsertProfile(w, r, body)
	case klaviyo.EndpointImportProfiles:
		s.createImportJob(w, r, rt.pre.(*importParsed))
	case klaviyo.EndpointGetImportJob:
		s.getImportJob(w, r, rt.id)
	case klaviyo.EndpointGetImportErrors:
		s.getImportErrors(w, r, rt.id, q)
	case klaviyo.EndpointCreateEvent:
		s.createEvent(w, body)
	case klaviyo.EndpointGetEvents:
		s.listEvents(w, r, q)
	case klaviyo.EndpointBulkCreateEvents:
		s.bulkCreateEvents(w, rt.pre.(*bulkParsed))
	case klaviyo.EndpointGetLists:
		s.listLists(w, r, q)
	case klaviyo.EndpointCreateList:
		s.createList(w, r, body)
	case klaviyo.EndpointGetList:
		s.getList(w, r, rt.id)
	case klaviyo.EndpointGetListProfiles:
		s.listMembers(w, r, rt.id, q)
	case klaviyo.EndpointAddToList, klaviyo.EndpointRemoveFromList:
		s.changeMembers(w, rt.id, body, rt.op == klaviyo.EndpointAddToList)
	case klaviyo.EndpointGetSegments:
		s.listSegments(w, r, q)
	case klaviyo.EndpointGetSegmentProfiles:
		s.segmentMembers(w, r, rt.id, q)
	case klaviyo.EndpointSubscribe:
		s.subscribe(w, body)
	case klaviyo.EndpointUnsubscribe:
		s.unsubscribe(w, body)
	case klaviyo.EndpointSuppress, klaviyo.EndpointUnsuppress:
		s.suppress(w, r, body, rt.op == klaviyo.EndpointSuppress)
	case klaviyo.EndpointGetMetrics:
		s.listMetrics(w, r, q)
	case klaviyo.EndpointQueryMetricAggregates:
		s.metricAggregates(w, r, body)
	case klaviyo.EndpointGetWebhooks:
		s.listWebhooks(w, r, q)
	case klaviyo.EndpointCreateWebhook:
		s.createWebhook(w, r, body)
	case klaviyo.EndpointDeleteWebhook:
		s.deleteWebhook(w, rt.id)
	case klaviyo.EndpointGetWebhookTopics:
		s.listWebhookTopics(w, r)
	case klaviyo.EndpointRequestDeletion:
		s.requestDeletion(w, body)
	default:
		notFound(w, "Route")
	}
}

// preparse decodes the bodies of the heavy operations before the lock is
// taken, so that one large request does not hold up the others.
func (s *Server) preparse(rt *routed, body []byte) {
	switch rt.op {
	case klaviyo.EndpointBulkCreateEvents:
		rt.pre = parseBulkEvents(body, s.base.Now())
	case klaviyo.EndpointImportProfiles:
		rt.pre = parseImport(body)
	}
}
