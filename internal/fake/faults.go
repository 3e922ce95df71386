package fake

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// Chaos is seeded random faults: each request that no scripted fault
// matched fails with probability Rate, with a kind drawn from Kinds (or
// DefaultChaosKinds when empty), from a generator seeded with Seed.
type Chaos struct {
	Seed  uint64                  // seeds the generator
	Rate  float64                 // share of requests that fail, 0 to 1
	Kinds []shopcrmtest.FaultKind // kinds drawn from; empty: DefaultChaosKinds
	// Templates, when set, are drawn from instead of Kinds: a draw is a
	// copy of one of them, its Status and RetryAfter included.
	Templates []shopcrmtest.Fault
	// OnFault, when set, hears every fault drawn.
	OnFault func(shopcrmtest.Fault)
}

// FromChaos is the chaos of a shopcrmtest.Chaos, which the fakes'
// WithChaosFaults options take.
func FromChaos(c shopcrmtest.Chaos) Chaos {
	return Chaos{Seed: c.Seed, Rate: c.Rate, Templates: c.Faults, OnFault: c.OnFault}
}

// DefaultChaosKinds are the kinds chaos draws from when none are named:
// a 503, a dropped connection, a lost response and a malformed body.
var DefaultChaosKinds = []shopcrmtest.FaultKind{
	shopcrmtest.FaultStatus, shopcrmtest.FaultDrop, shopcrmtest.FaultLostResponse, shopcrmtest.FaultMalformed,
}

// Faults picks the fault of each request: the first scripted fault that
// matches it, else a chaos draw. It is safe for concurrent use.
type Faults struct {
	validOp func(op string) error

	mu     sync.Mutex
	script []shopcrmtest.Fault // Times is the hits left; <0: unlimited
	rnd    *rand.Rand
	rate   float64
	kinds  []shopcrmtest.FaultKind
	tmpl   []shopcrmtest.Fault
	heard  func(shopcrmtest.Fault)
}

// NewFaults checks the script and the chaos settings and returns a picker.
// validOp, when not nil, rejects ops the fake does not know.
func NewFaults(script []shopcrmtest.Fault, chaos Chaos, validOp func(op string) error) (*Faults, error) {
	if math.IsNaN(chaos.Rate) || chaos.Rate < 0 || chaos.Rate > 1 {
		return nil, fmt.Errorf("chaos rate %v is not between 0 and 1", chaos.Rate)
	}
	kinds := chaos.Kinds
	if len(kinds) == 0 {
		kinds = DefaultChaosKinds
	}
	for _, k := range kinds {
		if k == shopcrmtest.FaultNone || !known(k) {
			return nil, fmt.Errorf("chaos kind %v is not a fault", k)
		}
	}
	fs := &Faults{
		validOp: validOp,
		rnd:     rand.New(rand.NewPCG(chaos.Seed, chaos.Seed^0x9e3779b97f4a7c15)),
		rate:    chaos.Rate,
		kinds:   append([]shopcrmtest.FaultKind(nil), kinds...),
		tmpl:    append([]shopcrmtest.Fault(nil), chaos.Templates...),
		heard:   chaos.OnFault,
	}
	for _, t := range fs.tmpl {
		if t.Kind == shopcrmtest.FaultNone || t.Op != "" || t.Times != 0 {
			return nil, fmt.Errorf("chaos template %q: needs a kind, and no Op or Times", t)
		}
		if err := fs.check(t); err != nil {
			return nil, fmt.Errorf("chaos template %q: %w", t, err)
		}
	}
	if err := fs.Add(script...); err != nil {
		return nil, err
	}
	return fs, nil
}

func known(k shopcrmtest.FaultKind) bool {
	return k >= shopcrmtest.FaultNone && k <= shopcrmtest.FaultMalformed
}

// Add appends faults to the script after checking each; on an error none
// is added.
func (fs *Faults) Add(faults ...shopcrmtest.Fault) error {
	var errs []error
	for _, f := range faults {
		if err := fs.check(f); err != nil {
			errs = append(errs, fmt.Errorf("fault %q: %w", f, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range faults {
		if f.Times == 0 {
			f.Times = 1
		}
		fs.script = append(fs.script, f)
	}
	return nil
}

func (fs *Faults) check(f shopcrmtest.Fault) error {
	if !known(f.Kind) {
		return errors.New("unknown kind")
	}
	if f.Op != "" && fs.validOp != nil {
		if err := fs.validOp(f.Op); err != nil {
			return err
		}
	}
	switch f.Kind {
	case shopcrmtest.FaultStatus:
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			return errors.New("Status must be 4xx or 5xx")
		}
	case shopcrmtest.FaultRateLimit:
		if f.Status != 0 && f.Status != 429 {
			return errors.New("a rate-limit fault answers 429; use FaultStatus for other statuses")
		}
	default:
		if f.Status != 0 || f.RetryAfter != "" {
			return fmt.Errorf("Status and RetryAfter go with FaultStatus and FaultRateLimit, not %v", f.Kind)
		}
	}
	return nil
}

// Pick returns the fault of a request: the first scripted fault whose Op is
// empty or accepted by match, used up by this hit, else a chaos draw. The
// result has Kind FaultNone when the request goes through; otherwise its
// Status is filled in (503 or 429) where the kind answers one.
func (fs *Faults) Pick(match func(op string) bool) shopcrmtest.Fault {
	f, drawn := fs.pick(match)
	if drawn && fs.heard != nil {
		fs.heard(f)
	}
	return f
}

// pick is Pick under the lock; drawn reports a chaos fault.
func (fs *Faults) pick(match func(op string) bool) (f shopcrmtest.Fault, drawn bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := range fs.script {
		f := &fs.script[i]
		if f.Op != "" && !match(f.Op) {
			continue
		}
		got := *f
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				fs.script = append(fs.script[:i], fs.script[i+1:]...)
			}
		}
		return withStatus(got), false
	}
	if fs.rate > 0 && fs.rnd.Float64() < fs.rate {
		if len(fs.tmpl) > 0 {
			return withStatus(fs.tmpl[fs.rnd.IntN(len(fs.tmpl))]), true
		}
		return withStatus(shopcrmtest.Fault{Kind: fs.kinds[fs.rnd.IntN(len(fs.kinds))]}), true
	}
	return shopcrmtest.Fault{}, false
}

func withStatus(f shopcrmtest.Fault) shopcrmtest.Fault {
	switch {
	case f.Kind == shopcrmtest.FaultStatus && f.Status == 0:
		f.Status = 503
	case f.Kind == shopcrmtest.FaultRateLimit:
		f.Status = 429
	}
	return f
}
