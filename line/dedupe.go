package line

import (
	"time"

	"github.com/shopcrm/shopcrm"
)

// DedupeStore remembers the webhook events already handled, by their
// webhookEventId; see [shopcrm.DedupeStore]. Release is called when
// handling fails, so that LINE's redelivery is handled again.
type DedupeStore = shopcrm.DedupeStore

// MemoryDedupe is an in-process DedupeStore; see [shopcrm.MemoryDedupe].
type MemoryDedupe = shopcrm.MemoryDedupe

// DefaultDedupeTTL is how long MemoryDedupe keeps a key when not told
// otherwise. LINE's documentation says a channel with redelivery turned on
// gets a failed event again "within a certain period, at intervals", with
// the same webhookEventId, and that an event may also arrive twice without
// it; it states no bound, so a day is a default, not a guarantee.
const DefaultDedupeTTL = shopcrm.DefaultDedupeTTL

// NewMemoryDedupe returns a store keeping keys for ttl (DefaultDedupeTTL
// when ≤ 0) and at most max keys (100,000 when ≤ 0; the oldest go first).
func NewMemoryDedupe(ttl time.Duration, max int) *MemoryDedupe {
	return shopcrm.NewMemoryDedupe(ttl, max)
}
