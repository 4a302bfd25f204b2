package artanatest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
)

func TestCheckStore(t *testing.T) {
	ctx := context.Background()
	good := func(opts ...ledger.StoreOption) (ledger.Store, error) { return ledger.NewMemStore(opts...), nil }
	if err := artanatest.CheckStore(ctx, good); err != nil {
		t.Fatalf("CheckStore(MemStore) = %v, want nil", err)
	}

	// A store that lets anyone append and forgets to close reports each
	// problem under the name of its check.
	bad := func(opts ...ledger.StoreOption) (ledger.Store, error) {
		return &lenientStore{MemStore: ledger.NewMemStore(opts...)}, nil
	}
	err := artanatest.CheckStore(ctx, bad)
	if err == nil {
		t.Fatal("CheckStore(lenient store) = nil, want problems")
	}
	for _, want := range []string{
		"TenantMismatchAppendsNothing: Append with another tenant: err = <nil>, want ErrTenantMismatch",
		"Close: Append after Close: err = <nil>, want ErrClosed",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CheckStore error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "CreateRun") {
		t.Errorf("CheckStore checked CreateRun on a store without it:\n%v", err)
	}

	failing := func(opts ...ledger.StoreOption) (ledger.Store, error) { return nil, errors.New("no database") }
	if err := artanatest.CheckStore(ctx, failing); err == nil || !strings.Contains(err.Error(), "AppendAssignsChain: no database") {
		t.Errorf("CheckStore with a failing open = %v, want the open error under each check", err)
	}
}

// lenientStore appends for any tenant, ignores Close and has no CreateRun.
type lenientStore struct{ *ledger.MemStore }

func (s *lenientStore) Append(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	if events, err := s.MemStore.Events(ctx, runID, 0); err == nil && len(events) > 0 {
		tenantID = events[0].TenantID
	}
	return s.MemStore.Append(ctx, runID, tenantID, p)
}

func (s *lenientStore) Close() error { return nil }

// CreateRun hides the MemStore's.
func (s *lenientStore) CreateRun() {}
