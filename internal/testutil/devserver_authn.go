package testutil

import (
	"time"

	"github.com/porthole-dev/porthole/server/authn"
)

// devAuthnOptions are the sign-in knobs of a dev server.
type devAuthnOptions struct {
	tokenTTL time.Duration
	store    authn.Store
}

// TokenTTL shortens the built-in provider's token lifetime, so sessions
// refresh (and end when the refresh fails) within a test.
func TokenTTL(d time.Duration) DevOption { return func(o *devOptions) { o.authn.tokenTTL = d } }

// WithStore keeps the dev server's sessions in st (replicas share one).
func WithStore(st authn.Store) DevOption { return func(o *devOptions) { o.authn.store = st } }
