package fleet

import (
	"fmt"
	"slices"
)

// End is what a day left on one shop's fakes: everything the steps write.
type End struct {
	CustomerTags map[int64][]string
	OrderTags    map[int64][]string
	Segments     []string       // Shopify segments: name and query
	Activities   []string       // marketing activities by remote id
	LINE         map[string]int // LINE user → messages received
	Engagements  map[string]int // engagement target and day → engagements
	Omnisend     map[string][]string
	KlaviyoList  []string            // emails of the repeat buyers' list
	KlaviyoProps map[string][]string // email → the segments property
	KlaviyoEvent map[string]int      // metric, email, points → events
}

// End reads what the day left on shop's fakes.
func (f *Fleet) End(shop string) End {
	fk := f.fakes[shop]
	e := End{CustomerTags: map[int64][]string{}, OrderTags: map[int64][]string{}, LINE: map[string]int{},
		Engagements: map[string]int{}, Omnisend: map[string][]string{}, KlaviyoProps: map[string][]string{}, KlaviyoEvent: map[string]int{}}
	for _, c := range fk.Shopify.Customers() {
		e.CustomerTags[c.ID] = sorted(c.Tags)
	}
	for _, o := range fk.Shopify.Orders() {
		if len(o.Tags) > 0 {
			e.OrderTags[o.ID] = sorted(o.Tags)
		}
	}
	for _, g := range fk.Shopify.Segments() {
		e.Segments = append(e.Segments, g.Name+": "+g.Query)
	}
	e.Segments = sorted(e.Segments)
	for _, a := range f.demos[shop].Config.Marketing.Activities {
		if got, ok := fk.Shopify.MarketingActivityByRemoteID(a.RemoteID); ok {
			e.Activities = append(e.Activities, fmt.Sprintf("%s %s %s", a.RemoteID, got.Title, got.Status))
		}
	}
	for _, u := range fk.LINE.Recipients() {
		e.LINE[u] = len(fk.LINE.Messages(u))
	}
	for _, g := range fk.Shopify.MarketingEngagements() {
		e.Engagements[g.RemoteID+g.ChannelHandle+" "+g.OccurredOn]++
	}
	for _, c := range fk.Omnisend.Contacts() {
		e.Omnisend[c.Email] = sorted(c.Tags)
	}
	email := map[string]string{}
	for _, p := range fk.Klaviyo.Profiles() {
		email[p.ID] = p.Email
		if v, ok := p.Properties["shopcrm_segments"].([]any); ok {
			var segs []string
			for _, x := range v {
				segs = append(segs, fmt.Sprint(x))
			}
			e.KlaviyoProps[p.Email] = segs
		}
	}
	ids, _ := fk.Klaviyo.ListMembers(demoListID())
	for _, id := range ids {
		e.KlaviyoList = append(e.KlaviyoList, email[id])
	}
	e.KlaviyoList = sorted(e.KlaviyoList)
	for _, ev := range fk.Klaviyo.Events() {
		e.KlaviyoEvent[fmt.Sprintf("%s %s %v", ev.Metric, email[ev.ProfileID], ev.Properties["points"])]++
	}
	return e
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
