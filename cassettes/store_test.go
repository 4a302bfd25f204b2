package cassettes_test

import (
	"testing"

	"github.com/artana-go/artana"
	"github.com/artana-go/artana/artanatest"
	"github.com/artana-go/artana/cassettes"
)

func TestStoreConformance(t *testing.T) {
	artanatest.TestStore(t, func(t *testing.T, opts ...artana.StoreOption) artana.Store {
		s, err := cassettes.OpenStore(t.TempDir(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
