package servercmd

import (
	"context"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

// openStore opens the store the server keeps its records in (the
// management API's routes, policies, API users). Until store.Open (file
// and PostgreSQL backends) is wired here, the records live in memory.
func openStore(_ context.Context, _ *config.Config, _ string) (store.Store, error) {
	return store.OpenMemory(nil)
}
