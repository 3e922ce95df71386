// Package shopifytest is a fake Shopify Admin GraphQL API for tests and
// examples, in the manner of net/http/httptest.
//
// [NewServer] starts it on a local port; [Server.Client] returns a real
// *shopify.Client pointed at it. The fake:
//
//   - parses and validates every document against a subset of the 2025-01
//     Admin schema ([SchemaSDL]); unknown fields and badly typed arguments
//     fail with errors[] and HTTP 200, as Shopify does, and so does an
//     input array of more than [MaxInputArray] elements; a wrong access
//     token is answered 401;
//   - computes the requested cost like Shopify (objects 1, connections 2 +
//     first x the cost of a node, mutations 10 per field, at most 1000, else
//     MAX_COST_EXCEEDED) and keeps a leaky bucket (default [PlanStandard]:
//     2000 points restoring 100 per second; see [WithRateLimit] and the
//     other plans) that answers THROTTLED with HTTP 200 and
//     extensions.cost.throttleStatus; the actual cost of a query counts the
//     nodes its connections returned (nested ones too) instead of first, and
//     the difference is refunded to the bucket, as Shopify does;
//   - holds customers, orders and segments in memory: tags added through it
//     are there when read back, trimmed, split on commas, compared
//     case-insensitively, limited to 250 per resource and to 255
//     characters (40 for an order tag);
//     email and SMS consent recorded through it are read back with their
//     opt-in level and time; orders hold line items, paged like any
//     connection; a customer's numberOfOrders and amountSpent are the count
//     and sum of its seeded orders; an order's customer journey reports its
//     position among the customer's orders and the days from its first
//     visit;
//     segment queries of the form customer_tags CONTAINS 'x' (with NOT, AND,
//     OR, parentheses, and email_subscription_status = 'STATE') are
//     evaluated for real;
//   - holds external marketing activities and their engagements
//     ([Server.MarketingActivities], [Server.MarketingActivityByRemoteID],
//     [Server.MarketingEngagements]): a remote id taken is TAKEN, a change
//     of hierarchy level, parent, UTM, URL parameter or channel handle an
//     IMMUTABLE_* userError, an ad group's parent must be a campaign and an
//     ad's a campaign or ad group, an activity with children cannot be
//     deleted; every marketingEngagementCreate adds an engagement, also for
//     a day already there, so a test can count duplicates;
//   - holds webhook subscriptions with HTTP endpoints
//     ([Server.WebhookSubscriptions]) for webhookSubscriptionCreate,
//     webhookSubscriptions and webhookSubscriptionDelete: a second
//     subscription of the same topic and callback URL is refused with
//     [MsgWebhookSubTaken], as Shopify refuses it;
//   - emits webhooks to those subscriptions when the API changes a
//     customer: customer.tags_added and customer.tags_removed (the tags
//     that really changed), customer.joined_segment and
//     customer.left_segment (for the segments the fake evaluates), signed
//     like Shopify's, delivered in order outside the request, a failed
//     delivery retried [DefaultWebhookRetries] times on a compressed
//     schedule with the same event id ([Server.EmittedWebhooks],
//     [Server.WaitWebhooks], [WithWebhookClient]); a subscription with a
//     filter, includeFields, metafieldNamespaces or the XML format gets a
//     failed delivery, since payloads are not shaped that way here;
//   - runs bulk operations ([Server.BulkOperations]): a bulk query needs at
//     least one connection, at most five, nested at most two deep, no node
//     or nodes at the top and no pagination arguments; it reads customers
//     (with their orders), orders (with their line items) and nothing
//     else, runs against the state when started, and moves CREATED →
//     RUNNING → COMPLETED after [WithBulkDuration], its JSONL result (with
//     __parentId on nested objects) served by a second host, the storage
//     host ([Server.StorageURL]), at a signed URL; [Server.FailNextBulk]
//     makes the next one end FAILED with an error code and partial data.
//     A bulk mutation runs one tagsAdd or tagsRemove (one mutation field
//     per operation, else INVALID_MUTATION) over a staged file
//     (stagedUploadsCreate for BULK_MUTATION_VARIABLES by POST; the storage
//     host takes the multipart upload and answers EntityTooLarge past
//     [MaxStagedUploadSize]) when it completes, and its result has a line
//     per input line with __lineNumber. Concurrency follows the requested
//     API version: one bulk query and one bulk mutation before 2026-01, five
//     of each from 2026-01; one more is OPERATION_IN_PROGRESS.
//     Cancelling moves an operation to CANCELING, then CANCELED. With
//     [WithBulkFinishWebhook] each operation that ends sends
//     bulk_operations/finish through [Server.SendWebhook]. The storage host
//     logs what it received ([Server.StorageRequests]) so a test can check
//     that no Shopify credential went there. An operation still running
//     when the server's clock has moved 10 days (query) or 24 hours
//     (mutation) past its start ([Server.Advance]) fails with TIMEOUT. Not
//     modelled: expiry of result URLs, and bulk queries over other
//     resources;
//   - pages with cursors that, like Shopify's, name the last item's sort
//     value and id rather than its index, so a change during a listing
//     skips nobody (an item moved past the cursor is met again);
//   - stops pagination where Shopify does: a connection pages through its
//     first 25,000 objects ([DefaultPaginationLimit]; [WithPaginationLimit]
//     lowers it for tests), the page holding the last of them says there
//     is no next page, a cursor beyond them is an error in errors[] (the
//     message is the fake's own), and customerSegmentMembers' totalCount
//     stops at the limit plus one;
//   - evaluates search queries of key:value terms joined by AND (values
//     quoted or not, >, >=, < and <= on ids and times, dates as UTC days):
//     email, id, phone and updated_at for customers (the 2025-01 list);
//     tag, tag_not, id, customer_id, email, created_at and processed_at for
//     orders; and sorts customers by ID, CREATED_AT or UPDATED_AT, orders by
//     PROCESSED_AT, CREATED_AT or ID, segments by CREATION_DATE, ID or
//     LAST_EDIT_DATE. Any other term, connective, sort key, segments(query:)
//     or orders(savedSearchId:) is an error on the field (errors[] with its
//     path), where Shopify would ignore an unknown search field and return
//     everything;
//   - reports the access scopes granted to the app
//     (currentAppInstallation.accessScopes; default
//     [DefaultAccessScopes], see [WithAccessScopes]) and, without
//     read_all_orders, serves only the orders of the last 60 days;
//   - injects faults on demand, scripted ([WithFaults], [Server.AddFaults])
//     or seeded ([WithChaos]), in the vocabulary every bundled fake shares
//     (package shopcrmtest): a status such as 503 or 401, a 429 with
//     Retry-After, dropped connections, timeouts, responses lost after the
//     change was made, truncated bodies; a fault's op is a top-level field
//     of the document ("tagsAdd", "customers");
//   - adds latency ([WithLatency]) and keeps its own clock ([Server.Advance],
//     [Server.SetNow]), which drives the bucket;
//   - counts what it did ([Server.Stats]: requests, THROTTLED answers,
//     faults, accepted documents, per top-level field), records every valid
//     document it received ([Server.Documents]) and counts executed
//     top-level fields ([Server.OpCount]).
//
// Ids: seeding ([Server.AddCustomer], [Server.AddOrder], [Server.AddSegment])
// and inspection ([Server.Customer], [Server.CustomerTags], ...) use the
// numeric id of a resource; global ids ("gid://shopify/Customer/1001")
// appear only on the wire, and [Customer.GID] and its kin give them.
//
// What it does not model (and refuses): fields outside its schema subset;
// backward pagination (last, before); search terms and sort keys beyond
// those above; segment query language beyond the forms above; reading
// marketing activities and engagements through the API; HTTP 429s
// other than injected ones
// (Shopify throttles GraphQL with THROTTLED); webhooks for changes other
// than the above, and for seeding calls; bulk operations;
// REST.
package shopifytest
