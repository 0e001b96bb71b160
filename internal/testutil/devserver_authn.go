package testutil

import (
	"time"

	"github.com/porthole-dev/porthole/server/authn"
	"github.com/porthole-dev/porthole/server/config"
)

// devAuthnOptions are the sign-in knobs of a dev server.
type devAuthnOptions struct {
	tokenTTL time.Duration
	config   *config.Config
	store    authn.Store
}

// TokenTTL shortens the built-in provider's token lifetime, so sessions
// refresh (and end when the refresh fails) within a test.
func TokenTTL(d time.Duration) DevOption { return func(o *devOptions) { o.authn.tokenTTL = d } }

// WithConfig runs the dev server with cfg as --config (extra routes,
// secrets, authenticate_service_url).
func WithConfig(cfg *config.Config) DevOption { return func(o *devOptions) { o.authn.config = cfg } }

// WithStore keeps the dev server's sessions in st (replicas share one).
func WithStore(st authn.Store) DevOption { return func(o *devOptions) { o.authn.store = st } }
