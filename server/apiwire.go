package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
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

// apiAdmins are who may call the API: api_admins, and dev@example.com
// in --dev.
func (s *Server) apiAdmins(cfg *config.Config) []string {
	admins := slices.Clone(cfg.APIAdmins)
	if s.dev {
		admins = append(admins, devAdmin)
	}
	return admins
}

// setupAPI builds the management API over the store and serves the
// routes made through it as the route table's "api" source. Nothing here
// is on the per-request path: requests read the compiled table, rebuilt
// when the store changes.
func (s *Server) setupAPI(ctx context.Context, opts Options, cfg *config.Config) error {
	s.logLevel = opts.LogLevel
	if s.storage == nil {
		return nil
	}
	st := s.storage.st
	admins := s.apiAdmins(cfg)
	level := "info"
	if s.logLevel != nil {
		level = levelName(s.logLevel.Level())
	}
	a, err := api.New(ctx, api.Options{
		Store: st, TokenKey: s.keys.Derive("api id token"), Admins: admins, Address: s.address,
		Authenticate: func(r *http.Request) *api.Identity {
			a := s.authenticate(r)
			if a.session == nil {
				return nil
			}
			return &api.Identity{User: a.session.Subject, Email: a.session.Email, Groups: a.session.Groups}
		},
		ConfigRoutes: s.configRoutes,
		Certificates: func() []tls.Certificate {
			if cs := s.certs.Load(); cs != nil {
				return cs.certs
			}
			return nil
		},
		BaseSettings: baseSettings(s, cfg, level),
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
	// The store's feed rebuilds the table for routes and policies (see
	// openStorage); key pairs (which routes name) and settings are the
	// API's to apply, on every replica.
	s.storage.cache.OnChange(func(kinds map[store.Kind]bool) {
		if kinds == nil || kinds[store.KindKeyPair] || kinds[store.KindSettings] {
			if err := s.reloadAPI(context.Background()); err != nil {
				logErr(s.log, "applying an API change from the store", err)
			}
		}
	})
	if opts.Dev && opts.DevDir != "" {
		path := filepath.Join(opts.DevDir, apiTokenFile)
		if _, err := api.EnsureTokenFile(ctx, st, path, "dev"); err != nil {
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
	routes, err := api.CompileRoutes(ctx, s.storage.st)
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
	set, err := api.LoadSettings(ctx, s.storage.st)
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

// OpenStore opens the store a server with cfg would use (dataDir as
// --data-dir), for commands that change it while the server runs or not
// (pomerium-server api-user create).
func OpenStore(ctx context.Context, cfg *config.Config, dataDir string) (store.Store, error) {
	sc := cfg.Storage
	dir := firstNonEmpty(dataDir, sc.DataDir)
	typ := sc.EffectiveType()
	if typ == config.StorageMemory {
		return nil, errors.New("databroker_storage_type is memory: a record made now would be gone before the server saw it")
	}
	key, err := storeKey(cfg, typ, dir)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Options{Type: typ, DataDir: dir, ConnString: sc.ConnectionString, Key: key})
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	return st, nil
}

// replicaHeartbeat keeps this process in the cluster's replica list
// (the API's clusters/{id}/replicas and health) until ctx ends.
func (s *Server) replicaHeartbeat(ctx context.Context) {
	if s.storage == nil {
		return
	}
	host, _ := os.Hostname()
	now := time.Now()
	rec := &store.Replica{Meta: store.Meta{ID: store.NewID()}, Hostname: host, Address: s.address,
		ServerVersion: buildVersion(), StartedAt: now}
	api.Heartbeat(ctx, s.storage.st, rec, func(err error) { logErr(s.log, "writing the replica heartbeat", err) })
}

// buildVersion is the module version the binary was built from ("dev"
// for a plain go build); cli/version would pull the CLI's keyring in.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// baseSettings are the config's settings as the API shows them. Secrets
// (cookie secret, client secret, the storage connection string) are
// never shown.
func baseSettings(s *Server, cfg *config.Config, level string) api.Settings {
	dur := func(d time.Duration) string {
		if d <= 0 {
			return ""
		}
		return d.String()
	}
	idp := cfg.IdpProvider
	if idp == "" {
		idp = "oidc"
	}
	set := api.Settings{
		LogLevel: level, ProxyLogLevel: cfg.ProxyLogLevel, Address: s.address, HTTPRedirectAddr: cfg.HTTPRedirectAddr,
		TimeoutRead: dur(s.lim().TimeoutRead), TimeoutWrite: dur(s.lim().TimeoutWrite), TimeoutIdle: dur(s.lim().TimeoutIdle),
		CookieName: sessionCookie, CookieHTTPOnly: true, CookieExpire: s.signInOpts().CookieExpire.String(), CookieSameSite: "lax",
		SetResponseHeaders: cfg.SetResponseHeaders, DefaultUpstreamTimeout: config.DefaultTimeout.String(),
		MetricsAddress: cfg.MetricsAddress, SkipXffAppend: cfg.SkipXFFAppend,
		GoogleCloudServerlessAuthServiceAcc: cfg.GoogleCloudServerlessAuthenticationServiceAccount,
		AuthenticateServiceURL:              "https://" + s.address + "/.pomerium", IdentityProvider: idp,
		IdentityProviderURL: cfg.IdpProviderURL, IdentityProviderClientID: cfg.IdpClientID,
		IdentityProviderScopes: cfg.IdpScopes, IdentityProviderRequestParams: cfg.IdpRequestParams,
	}
	if cfg.DefaultUpstreamTimeout > 0 {
		set.DefaultUpstreamTimeout = cfg.DefaultUpstreamTimeout.String()
	}
	if cfg.PassIdentityHeaders != nil {
		set.PassIdentityHeaders = *cfg.PassIdentityHeaders
	}
	if len(cfg.JWTClaimsHeaders) > 0 {
		set.JWTClaimsHeaders = map[string]string{}
		for _, c := range cfg.JWTClaimsHeaders {
			set.JWTClaimsHeaders[c.Header] = c.Claim
		}
	}
	return set
}
