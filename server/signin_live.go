package server

import (
	"context"
	"crypto/x509"
	"errors"
	"net/url"
	"slices"

	"github.com/porthole-dev/porthole/server/authn"
	"github.com/porthole-dev/porthole/server/config"
)

// signIn is a sign-in service with the options that built it.
type signIn struct {
	svc  *authn.Service
	opts authn.Options
	stop context.CancelFunc // ends its provider discovery (nil until started)
}

// auth is the sign-in service in use. Each request takes it once.
func (s *Server) auth() *authn.Service { return s.signin.Load().svc }

// signInOpts are the options of the sign-in service in use (New's draft
// while New runs).
func (s *Server) signInOpts() authn.Options {
	if si := s.signin.Load(); si != nil {
		return si.opts
	}
	return s.authnOpts
}

// signInKeys are the config keys sign-in is built from: a reload that
// changes any of them builds a new sign-in service (not in --dev, whose
// provider is built in).
var signInKeys = []string{
	"authenticate_service_url", "signout_redirect_url", "cookie_expire",
	"programmatic_redirect_domain_whitelist",
	"idp_provider", "idp_provider_url", "idp_client_id", "idp_client_secret", "idp_client_secret_file",
	"idp_scopes", "idp_request_params", "certificate_authority", "certificate_authority_file",
}

// signInOptions are sign-in's options from cfg, except the provider
// (idpConfig; --dev sets its own) and the store (set by finish).
func (s *Server) signInOptions(cfg *config.Config) authn.Options {
	o := authn.Options{
		Keys: s.keys, CookieExpire: config.DefaultCookieExpire, Logger: s.log,
		ProgrammaticWhitelist: cfg.ProgrammaticRedirectDomainWhitelist,
		SignOutRedirectURL:    cfg.SignoutRedirectURL,
		KnownHost:             s.servesHost,
	}
	if cfg.CookieExpire > 0 {
		o.CookieExpire = cfg.CookieExpire
	}
	if cfg.AuthenticateServiceURL != "" {
		u, _ := url.Parse(cfg.AuthenticateServiceURL) // checked by config
		o.AuthenticateURL = &url.URL{Scheme: "https", Host: u.Host}
	}
	return o
}

func checkIdP(cfg *config.Config) error {
	if cfg.IdpProviderURL == "" || cfg.IdpClientID == "" {
		return errors.New("idp_provider_url and idp_client_id are required (or run with --dev for the built-in provider)")
	}
	return nil
}

// idpConfig is the configured identity provider, reached with
// Options.IdPClient or a client trusting certificate_authority(_file)
// besides the system roots.
func (s *Server) idpConfig(cfg *config.Config) authn.IdPConfig {
	client := s.idpClient
	if client == nil {
		client = outboundClient(nil)
		if len(cfg.UpstreamRoots) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			pool.AppendCertsFromPEM(cfg.UpstreamRoots)
			client = outboundClient(pool)
		}
	}
	return authn.IdPConfig{
		Provider: cfg.IdpProvider, Issuer: cfg.IdpProviderURL, ClientID: cfg.IdpClientID,
		ClientSecret: cfg.IdpClientSecret, Scopes: cfg.IdpScopes, RequestParams: cfg.IdpRequestParams, HTTPClient: client,
	}
}

// startSignIn starts si's provider discovery once the server serves.
func (s *Server) startSignIn(si *signIn) {
	s.mu.Lock()
	bg := s.bg
	s.mu.Unlock()
	if bg == nil {
		return
	}
	ctx, stop := context.WithCancel(bg)
	s.mu.Lock()
	si.stop = stop
	s.mu.Unlock()
	si.svc.Start(ctx)
}

// newSignIn builds the sign-in service cfg asks for, when changed names
// a sign-in key (nil otherwise). Sessions, handoffs and sign-ins under
// way carry over: they live in the store and in tokens sealed with the
// server's keys, which a reload does not change.
func (s *Server) newSignIn(cfg *config.Config, changed []string) (*signIn, error) {
	if s.dev || !slices.ContainsFunc(changed, func(k string) bool { return slices.Contains(signInKeys, k) }) {
		return nil, nil
	}
	if err := checkIdP(cfg); err != nil {
		return nil, err
	}
	o := s.signInOptions(cfg)
	o.IdP = s.idpConfig(cfg)
	o.Store = s.signInOpts().Store
	svc, err := authn.New(o)
	if err != nil {
		return nil, err
	}
	return &signIn{svc: svc, opts: o}, nil
}

// useSignIn puts si in service and stops the one it replaces.
func (s *Server) useSignIn(si *signIn) {
	s.startSignIn(si)
	old := s.signin.Swap(si)
	s.mu.Lock()
	stop := old.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	// Said at start-up already; again only when a reload removes it.
	if si.opts.AuthenticateURL == nil && old.opts.AuthenticateURL != nil {
		s.log.Warn("authenticate_service_url is not set: every host signs in for itself, so the identity provider needs https://<each host>/oauth2/callback as a redirect URI")
	}
}
