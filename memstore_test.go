package artana_test

import (
	"testing"

	"github.com/artana-go/artana"
	"github.com/artana-go/artana/artanatest"
)

func TestMemStore(t *testing.T) {
	artanatest.TestStore(t, func(t *testing.T, opts ...artana.StoreOption) artana.Store {
		return artana.NewMemStore(opts...)
	})
}
