package klaviyo

import (
	"strconv"
	"time"
)

// The metric names of the loyalty events. Klaviyo has no built-in loyalty
// metrics: these are the names this package gives them, stable so that
// flows and segments can rely on them.
const (
	MetricPointsEarned      = "Loyalty Points Earned"
	MetricPointsRedeemed    = "Loyalty Points Redeemed"
	MetricPointsExpired     = "Loyalty Points Expired"
	MetricRewardGranted     = "Loyalty Reward Granted"
	MetricRewardExpiring    = "Loyalty Reward Expiring"
	MetricReferralStarted   = "Loyalty Referral Started"
	MetricReferralCompleted = "Loyalty Referral Completed"
	MetricVIPTierReached    = "Loyalty VIP Tier Reached"
	MetricBirthdayReward    = "Loyalty Birthday Reward Granted"
)

// The static profile properties the loyalty events keep up to date.
const (
	PropPointsBalance = "loyalty_points_balance"
	PropTier          = "loyalty_tier"
	PropReferralCode  = "loyalty_referral_code"
)

// Loyalty describes one loyalty member and the facts of an event; its
// methods build the events. Fields an event does not use are ignored.
// Each event's unique_id is derived from the member and the event's own
// key (the order, the reward, the referral, the tier, the year), so the
// same fact sent twice, by a retry or a rerun, is recorded once.
type Loyalty struct {
	// Member identifies the profile; its attributes are sent too.
	Member ProfileInput
	// Balance is the points balance after the event; with SetBalance, it
	// is also written to the profile's loyalty_points_balance.
	Balance    int64
	SetBalance bool
	// Tier and ReferralCode, when set, are written to the profile's
	// loyalty_tier and loyalty_referral_code.
	Tier         string
	ReferralCode string

	Points        int64     // points earned, redeemed or expired
	OrderID       string    // the order that earned points or completed a referral
	RewardID      string    // the reward granted, redeemed or expiring
	RewardName    string    // its display name
	ExpiresAt     time.Time // when the reward or points expire
	PreviousTier  string    // the tier before a VIP tier change
	ReferredEmail string    // the friend of a referral
	At            time.Time // when it happened; zero is now
}

func (l Loyalty) event(metric string, key []string, props map[string]any) Event {
	m := l.Member
	m.Properties = map[string]any{}
	for k, v := range l.Member.Properties {
		m.Properties[k] = v
	}
	if l.SetBalance {
		m.Properties[PropPointsBalance] = l.Balance
		props["points_balance"] = l.Balance
	}
	if l.Tier != "" {
		m.Properties[PropTier] = l.Tier
	}
	if l.ReferralCode != "" {
		m.Properties[PropReferralCode] = l.ReferralCode
	}
	if len(m.Properties) == 0 {
		m.Properties = nil
	}
	who := l.Member.ID + "|" + l.Member.Email + "|" + l.Member.PhoneNumber + "|" + l.Member.ExternalID
	return Event{Metric: metric, Profile: m, Properties: props, Time: l.At,
		UniqueID: UniqueID(append([]string{"loyalty", metric, who}, key...)...)}
}

func orTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// PointsEarned is points earned, on an order (OrderID) or otherwise (its
// time is the key).
func (l Loyalty) PointsEarned() Event {
	key := []string{"order", l.OrderID}
	if l.OrderID == "" {
		key = []string{"at", orTime(l.At)}
	}
	props := map[string]any{"points": l.Points}
	if l.OrderID != "" {
		props["order_id"] = l.OrderID
	}
	return l.event(MetricPointsEarned, key, props)
}

// PointsRedeemed is points spent on a reward.
func (l Loyalty) PointsRedeemed() Event {
	return l.event(MetricPointsRedeemed, []string{l.RewardID, orTime(l.At)},
		map[string]any{"points": l.Points, "reward_id": l.RewardID, "reward_name": l.RewardName})
}

// PointsExpired is points that expired at ExpiresAt (or At).
func (l Loyalty) PointsExpired() Event {
	when := l.ExpiresAt
	if when.IsZero() {
		when = l.At
	}
	return l.event(MetricPointsExpired, []string{orTime(when), strconv.FormatInt(l.Points, 10)},
		map[string]any{"points": l.Points, "expired_at": orTime(when)})
}

// RewardGranted is a reward given to the member.
func (l Loyalty) RewardGranted() Event {
	return l.event(MetricRewardGranted, []string{l.RewardID},
		map[string]any{"reward_id": l.RewardID, "reward_name": l.RewardName, "expires_at": orTime(l.ExpiresAt)})
}

// RewardExpiring is a reminder that a reward expires at ExpiresAt.
func (l Loyalty) RewardExpiring() Event {
	return l.event(MetricRewardExpiring, []string{l.RewardID, orTime(l.ExpiresAt)},
		map[string]any{"reward_id": l.RewardID, "reward_name": l.RewardName, "expires_at": orTime(l.ExpiresAt)})
}

// ReferralStarted is the member inviting ReferredEmail.
func (l Loyalty) ReferralStarted() Event {
	return l.event(MetricReferralStarted, []string{l.ReferralCode, l.ReferredEmail},
		map[string]any{"referral_code": l.ReferralCode, "referred_email": l.ReferredEmail})
}

// ReferralCompleted is the referred friend's first order (OrderID).
func (l Loyalty) ReferralCompleted() Event {
	return l.event(MetricReferralCompleted, []string{l.ReferralCode, l.ReferredEmail},
		map[string]any{"referral_code": l.ReferralCode, "referred_email": l.ReferredEmail, "order_id": l.OrderID, "points": l.Points})
}

// VIPTierReached is the member reaching Tier from PreviousTier.
func (l Loyalty) VIPTierReached() Event {
	return l.event(MetricVIPTierReached, []string{l.Tier, orTime(l.At)},
		map[string]any{"tier": l.Tier, "previous_tier": l.PreviousTier})
}

// BirthdayReward is the yearly birthday reward; the year of At is the key.
func (l Loyalty) BirthdayReward() Event {
	at := l.At
	if at.IsZero() {
		at = time.Now()
	}
	return l.event(MetricBirthdayReward, []string{strconv.Itoa(at.Year())},
		map[string]any{"reward_id": l.RewardID, "reward_name": l.RewardName, "points": l.Points, "year": at.Year()})
}
