package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/sqlite"
)

func TestStoreConformance(t *testing.T) {
	artanatest.TestStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), sqlite.WithStoreOptions(opts...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestStoreConformanceFull(t *testing.T) {
	artanatest.TestStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"),
			sqlite.WithStoreOptions(opts...), sqlite.WithSynchronous(sqlite.SyncFull))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestKernelOnStore(t *testing.T) {
	artanatest.TestKernelStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), sqlite.WithStoreOptions(opts...))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
