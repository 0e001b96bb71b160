package store_test

import (
	"context"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil/pgtest"
	"github.com/porthole-dev/porthole/server/store"
	"github.com/porthole-dev/porthole/server/store/storetest"
)

func TestFileConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		return func(key []byte) (store.Store, error) {
			return store.Open(context.Background(), store.Options{Type: store.TypeFile, DataDir: dir, Key: key})
		}
	}, true)
}

func TestPostgresConformance(t *testing.T) {
	c := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		url := c.NewDatabase(t)
		return func(key []byte) (store.Store, error) {
			return store.Open(context.Background(), store.Options{Type: store.TypePostgres, ConnString: url, Key: key})
		}
	}, true)
}
