package store_test

import (
	"testing"

	"github.com/porthole-dev/porthole/server/store"
	"github.com/porthole-dev/porthole/server/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		return func(key []byte) (store.Store, error) { return store.OpenMemory(key) }
	}, false)
}
