package cassettes_test

import (
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/cassettes"
)

func TestStoreConformance(t *testing.T) {
	artanatest.TestStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		s, err := cassettes.OpenStore(t.TempDir(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestKernelOnStore(t *testing.T) {
	artanatest.TestKernelStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		s, err := cassettes.OpenStore(t.TempDir(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
