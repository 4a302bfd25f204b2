package artana

import "fmt"

// NewEnforced returns a kernel like New, under the seed's enforced policy
// (KernelPolicy.enforced()): its middleware chain must hold a PIIScrubber,
// a Quota and a CapabilityGuard, or NewEnforced fails with
// ErrPolicyViolation naming the first one missing. Its tenants must pass
// Tenant.Validate (an id and a budget greater than 0) at every step.
//
//	k, err := artana.NewEnforced(store, model, artana.WithMiddleware(artana.DefaultMiddleware()...))
func NewEnforced(store Store, model Model, opts ...Option) (*Kernel, error) {
	k := New(store, model, opts...)
	k.enforced = true
	for _, want := range []struct {
		name string
		rank int
	}{{"PIIScrubber", 0}, {"Quota", 1}, {"CapabilityGuard", 2}} {
		if !hasRank(k.middleware, want.rank) {
			return nil, &Error{Op: "new kernel", Kind: ErrPolicyViolation,
				Msg: fmt.Sprintf("the enforced policy requires middleware %s; add it with WithMiddleware(artana.%s{}), or pass WithMiddleware(artana.DefaultMiddleware()...)", want.name, want.name)}
		}
	}
	return k, nil
}

func hasRank(m []Middleware, rank int) bool {
	for _, mw := range m {
		if middlewareRank(mw) == rank {
			return true
		}
	}
	return false
}
