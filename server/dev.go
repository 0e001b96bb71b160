package server

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"

	"github.com/porthole-dev/porthole/server/authn"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/devca"
	"github.com/porthole-dev/porthole/server/devidp"
	"github.com/porthole-dev/porthole/server/routing"
	"github.com/porthole-dev/porthole/server/upstreams"
)

const devClientID = "pomerium-server-dev"

// devHostNames are the loopback names the dev certificate covers; the
// http sample routes live on *.localhost, which Chromium and most
// resolvers map to loopback without DNS.
var devHostNames = []string{"localhost", "verify.localhost", "public.localhost", "*.localhost", "127.0.0.1", "::1"}

// setupDev creates the CA, server certificate, built-in provider, sample
// upstreams and dev routes.
func (s *Server) setupDev(opts Options) error {
	if opts.DevDir == "" {
		return fmt.Errorf("--dev-dir is empty")
	}
	host, port, err := net.SplitHostPort(s.address)
	if err != nil {
		return fmt.Errorf("--address %q must be host:port like 127.0.0.1:8443: %w", s.address, err)
	}
	if s.ca, err = devca.LoadOrCreate(opts.DevDir); err != nil {
		return err
	}
	names := append([]string{}, devHostNames...)
	if host != "" && !slices.Contains(names, host) {
		names = append(names, host)
	}
	cert, err := s.ca.ServerCert(names)
	if err != nil {
		return err
	}
	s.setCerts([]tls.Certificate{cert}, false)

	if s.upstreams, err = upstreams.Start(s.log); err != nil {
		return err
	}
	dev, err := devRoutes(s.address, port, s.upstreams)
	if err != nil {
		return err
	}
	// Dev routes come first: the source order is the match order.
	s.table.SetSource("dev", routing.Static(dev))

	issuer := "https://" + s.address + "/.pomerium/dev-idp"
	// The server's own address is the authenticate host unless the config
	// names one: its /oauth2/callback is the provider's one redirect URI.
	if s.authnOpts.AuthenticateURL == nil {
		s.authnOpts.AuthenticateURL = &url.URL{Scheme: "https", Host: s.address}
	}
	auth := "https://" + s.authnOpts.AuthenticateURL.Host
	postLogout := []string{auth + "/.pomerium/signed_out"}
	if s.authnOpts.SignOutRedirectURL != "" {
		postLogout = append(postLogout, s.authnOpts.SignOutRedirectURL)
	}
	users := opts.DevUsers
	if users == nil {
		users = devidp.DefaultUsers
	}
	secret := rand.Text()
	if s.idp, err = devidp.New(devidp.Options{
		Issuer: issuer, Users: users, AutoLogin: opts.DevAutoLogin,
		ClientID: devClientID, ClientSecret: secret, RedirectURIs: []string{auth + authn.PathOAuth2Callback},
		PostLogoutRedirectURIs: postLogout, TokenTTL: opts.DevTokenTTL, Logger: s.log,
	}); err != nil {
		return fmt.Errorf("starting the built-in identity provider: %w", err)
	}
	// The server reaches its own provider over HTTPS like any other: same
	// code path, trusting the dev CA. No idle connections to itself: they
	// would hold slots of max_connections.
	client := outboundClient(s.ca.Pool)
	client.Transport.(*http.Transport).DisableKeepAlives = true
	s.authnOpts.IdP = authn.IdPConfig{Issuer: issuer, ClientID: devClientID, ClientSecret: secret, HTTPClient: client}
	if opts.Banner != nil {
		fmt.Fprintf(opts.Banner, "pomerium-server --dev listening on https://%s\n", s.address)
		fmt.Fprintf(opts.Banner, "  CA certificate: %s\n", s.ca.CertFile)
		fmt.Fprintf(opts.Banner, "  routes portal:  https://%s/.pomerium/routes\n", s.address)
		fmt.Fprintf(opts.Banner, "  try:            pomerium-cli routes list https://%s --alternate-ca-path %s\n", s.address, s.ca.CertFile)
		fmt.Fprintf(opts.Banner, "                  pomerium-cli tcp tcp+https://%s/echo.internal:7000 --alternate-ca-path %s\n", s.address, s.ca.CertFile)
	}
	return nil
}

// devRoutes are the sample routes: echo and admin-echo (tcp, path form on
// the listen address), verify and public (http on *.localhost:PORT).
func devRoutes(addr, port string, u *upstreams.Set) ([]config.Route, error) {
	mk := func(name, desc, from, to string) (config.Route, error) {
		tu, err := url.Parse(to)
		if err != nil {
			return config.Route{}, err
		}
		return config.Route{From: from, Name: name, Description: desc, To: []config.Upstream{{URL: tu, Weight: 1}}}, nil
	}
	var out []config.Route
	for _, d := range []struct {
		name, desc, from, to string
		set                  func(*config.Route)
	}{
		{"echo", "TCP echo: every byte comes back (any signed-in user)",
			"tcp+https://" + addr + "/echo.internal:7000", "tcp://" + u.EchoAddr,
			func(r *config.Route) { r.AllowAnyAuthenticatedUser = true }},
		{"admin-echo", "TCP echo for dev@example.com only",
			"tcp+https://" + addr + "/admin-echo.internal:7001", "tcp://" + u.EchoAddr,
			func(r *config.Route) { r.AllowedUsers = []string{"dev@example.com"} }},
		{"verify", "Shows the identity headers the upstream receives",
			"https://verify.localhost:" + port, "http://" + u.VerifyAddr,
			func(r *config.Route) { r.AllowAnyAuthenticatedUser, r.PassIdentityHeaders = true, true }},
		{"public", "A page anyone may see, no sign-in",
			"https://public.localhost:" + port, "http://" + u.PublicAddr,
			func(r *config.Route) { r.AllowPublicUnauthenticatedAccess = true }},
	} {
		rt, err := mk(d.name, d.desc, d.from, d.to)
		if err != nil {
			return nil, fmt.Errorf("building dev route %s: %w", d.name, err)
		}
		d.set(&rt)
		// The upstream's port is new on every start; the id must not be.
		rt.IDKey = "dev-sample:" + d.name
		if err := rt.Validate(); err != nil {
			return nil, fmt.Errorf("dev route %s: %w", d.name, err)
		}
		out = append(out, rt)
	}
	return out, nil
}
