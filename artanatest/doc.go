// Package artanatest holds helpers for testing artana stores, kernels and
// agents with go test. TestStore is the conformance suite every
// artana.Store implementation must pass.
package artanatest
