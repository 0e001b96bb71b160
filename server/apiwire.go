package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/porthole-dev/porthole/server/api"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/routing"
	"github.com/porthole-dev/porthole/server/store"
)

// devAdmin may call the management API on a --dev server.
const devAdmin = "dev@example.com"

// apiTokenFile is the --dev API user token, in the dev dir.
const apiTokenFile = "api-user-token"

// setupAPI builds the management API over the store and serves the
// routes made through it as the route table's "api" source. Nothing here
// is on the per-request path: requests read the compiled table, rebuilt
// when the store changes.
func (s *Server) setupAPI(ctx context.Context, opts Options, cfg *config.Config) error {
	s.st = opts.Store
	s.logLevel = opts.LogLevel
	if s.st == nil {
		return nil
	}
	admins := slices.Clone(cfg.APIAdmins)
	if opts.Dev {
		admins = append(admins, devAdmin)
	}
	level := "info"
	if s.logLevel != nil {
		level = levelName(s.logLevel.Level())
	}
	a, err := api.New(ctx, api.Options{
		Store: s.st, TokenKey: s.keys.Derive("api id token"), Admins: admins, Address: s.address,
		VerifySession: func(_ context.Context, tok string) (*api.Identity, error) {
			c, err := s.keys.Verify(tok)
			if err != nil {
				return nil, err
			}
			return &api.Identity{User: c.Subject, Email: c.Email, Groups: c.Groups}, nil
		},
		ConfigRoutes: s.configRoutes,
		Certificates: func() []tls.Certificate {
			if s.tlsConfig == nil {
				return nil
			}
			return s.tlsConfig.Certificates
		},
		BaseSettings: api.Settings{
			LogLevel: level, Address: s.address, CookieName: sessionCookie, CookieHTTPOnly: true,
			CookieExpire: s.cookieExpire.String(), CookieSameSite: "lax", DefaultUpstreamTimeout: config.DefaultTimeout.String(),
			AuthenticateServiceURL: "https://" + s.address + "/.pomerium", IdentityProvider: "oidc",
			IdentityProviderURL: cfg.IdpProviderURL, IdentityProviderClientID: cfg.IdpClientID,
			IdentityProviderScopes: cfg.IdpScopes,
		},
		OnChange: func(ctx context.Context) {
			if err := s.reloadAPI(ctx); err != nil {
				logErr(s.log, "applying an API change", err)
			}
		},
		Logger: s.log,
	})
	if err != nil {
		return err
	}
	s.api = a
	s.table.SetSource("api", routing.SourceFunc(s.apiRoutes))
	if err := s.reloadAPI(ctx); err != nil {
		return err
	}
	if opts.Dev && opts.DevDir != "" {
		path := filepath.Join(opts.DevDir, apiTokenFile)
		if _, err := api.EnsureTokenFile(ctx, s.st, path, "dev"); err != nil {
			return err
		}
		if opts.Banner != nil {
			fmt.Fprintf(opts.Banner, "  API user token: %s (POST https://%s/api/v0/token)\n", path, s.address)
		}
	}
	return nil
}

// configRoutes are the routes of every source but the API (YAML, --dev
// samples), as served now.
func (s *Server) configRoutes() []config.Route {
	var out []config.Route
	for _, rt := range s.table.Load().All() {
		if rt.Origin != "api" {
			out = append(out, *rt.Route)
		}
	}
	return out
}

// apiRoutes is the table's "api" source. A store that cannot be read
// fails the rebuild, so the table being served stays as it is.
func (s *Server) apiRoutes(ctx context.Context) ([]config.Route, error) {
	routes, err := api.CompileRoutes(ctx, s.st)
	if routes == nil && err != nil {
		return nil, fmt.Errorf("loading the API's routes: %w", err)
	}
	if err != nil { // some routes skipped; serve the rest
		logErr(s.log, "API routes skipped", err)
	}
	return routes, nil
}

// reloadAPI recompiles the API's routes and applies its settings.
func (s *Server) reloadAPI(ctx context.Context) error {
	// Serialized, so that a reload that read the store earlier can never
	// publish after one that read it later.
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err := s.table.Rebuild(ctx); err != nil {
		return err
	}
	set, err := api.LoadSettings(ctx, s.st)
	if err != nil {
		return fmt.Errorf("loading the API's settings: %w", err)
	}
	if s.logLevel != nil && set.LogLevel != "" {
		var l slog.Level
		if l.UnmarshalText([]byte(set.LogLevel)) == nil && l != s.logLevel.Level() {
			s.logLevel.Set(l)
			s.log.Info("log level changed through the API", "level", set.LogLevel)
		}
	}
	return nil
}

// watchAPI reloads on every change to the store, from this replica or
// another, until ctx ends. A failed reload keeps the routes being served
// and is retried on the next change or tick.
func (s *Server) watchAPI(ctx context.Context) {
	if s.st == nil {
		return
	}
	changed := s.st.Watch(ctx)
	// The tick is a safety net for a missed notification; the store's own
	// feed is what makes changes apply within a second.
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	last, err := s.st.Version(ctx)
	if err != nil {
		logErr(s.log, "reading the store's version", err)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-changed:
			if !ok {
				return
			}
		case <-tick.C:
		}
		changes, v, err := s.st.ChangesSince(ctx, last)
		if err != nil && !errors.Is(err, store.ErrChangesTrimmed) || v == last {
			continue
		}
		if err == nil && !slices.ContainsFunc(changes, func(c store.Change) bool { return slices.Contains(apiKinds, c.Kind) }) {
			last = v // sessions and the like: nothing the route table holds
			continue
		}
		if err := s.reloadAPI(ctx); err != nil {
			logErr(s.log, "reloading the API's routes", err)
			continue
		}
		last = v
	}
}

// apiKinds are the records the served routes and settings are built from.
var apiKinds = []store.Kind{store.KindRoute, store.KindPolicy, store.KindKeyPair, store.KindSettings}

func levelName(l slog.Level) string {
	switch {
	case l <= slog.LevelDebug:
		return "debug"
	case l <= slog.LevelInfo:
		return "info"
	case l <= slog.LevelWarn:
		return "warn"
	}
	return "error"
}

