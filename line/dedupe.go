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
// otherwise. LINE redelivers an event for a limited time after a failed
// delivery (unverified: the documentation gives no bound), and a day
// outlasts any redelivery seen in practice.
const DefaultDedupeTTL = shopcrm.DefaultDedupeTTL

// NewMemoryDedupe returns a store keeping keys for ttl (DefaultDedupeTTL
// when ≤ 0) and at most max keys (100,000 when ≤ 0; the oldest go first).
func NewMemoryDedupe(ttl time.Duration, max int) *MemoryDedupe {
	return shopcrm.NewMemoryDedupe(ttl, max)
}
