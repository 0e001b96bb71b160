package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// IdPConfig is the OIDC client registration.
type IdPConfig struct {
	Provider     string // "" means oidc
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes; nil asks for openid, profile, email and, where the provider
	// advertises it, offline_access.
	Scopes []string
	// RequestParams are idp_request_params: extra authorization request
	// parameters (prompt, hd, ...).
	RequestParams map[string]string
	// HTTPClient talks to the provider, trusting certificate_authority.
	HTTPClient *http.Client
}

// ErrIdPUnavailable is a sign-in while discovery has not succeeded yet.
var ErrIdPUnavailable = errors.New("identity provider not reachable yet")

// idp discovers the provider in the background with backoff, so the
// server starts and serves public routes and tunnels while it is down.
type idp struct {
	cfg IdPConfig
	log *slog.Logger

	mu         sync.Mutex
	provider   *oidc.Provider
	endSession string
	scopes     []string
	skipIssuer bool
	lastErr    error
	discovered chan struct{}
	once       sync.Once
}

type discoveryDoc struct {
	oidc.ProviderConfig
	EndSession      string   `json:"end_session_endpoint"`
	ScopesSupported []string `json:"scopes_supported"`
}

func newIdP(cfg IdPConfig, log *slog.Logger) *idp {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Provider == "auth0" && !strings.HasSuffix(cfg.Issuer, "/") {
		// Auth0's issuer ends with a slash; users often leave it off.
		cfg.Issuer += "/"
	}
	return &idp{cfg: cfg, log: log, discovered: make(chan struct{})}
}

func (i *idp) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, i.cfg.HTTPClient)
}

// run retries discovery until it succeeds or ctx ends: 1s, 2s, ... 1m.
func (i *idp) run(ctx context.Context) {
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		err := i.discover(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		if attempt == 1 || errors.Is(err, errIssuerMismatch) {
			i.log.Error("identity provider discovery failed; retrying in the background", "issuer", i.cfg.Issuer, "err", err)
		} else {
			i.log.Warn("identity provider discovery failed", "issuer", i.cfg.Issuer, "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-i.discovered:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

var errIssuerMismatch = errors.New("issuer mismatch")

// discover fetches <issuer>/.well-known/openid-configuration once.
func (i *idp) discover(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	wellKnown := strings.TrimSuffix(i.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return fmt.Errorf("discovery URL %s: %w", wellKnown, err)
	}
	resp, err := i.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", wellKnown, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading %s: %w", wellKnown, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: %s (is idp_provider_url the issuer URL?)", wellKnown, resp.Status)
	}
	var doc discoveryDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("decoding %s: %w", wellKnown, err)
	}
	skipIssuer := false
	if doc.IssuerURL != i.cfg.Issuer {
		// Azure's multi-tenant endpoints publish a {tenantid} template.
		if i.cfg.Provider == "azure" && strings.Contains(doc.IssuerURL, "{tenantid}") {
			skipIssuer = true
		} else {
			return fmt.Errorf("%w: idp_provider_url is %q but the provider's discovery document says its issuer is %q; set idp_provider_url to exactly the provider's issuer",
				errIssuerMismatch, i.cfg.Issuer, doc.IssuerURL)
		}
	}
	if doc.AuthURL == "" || doc.TokenURL == "" || doc.JWKSURL == "" {
		return fmt.Errorf("%s lacks authorization_endpoint, token_endpoint or jwks_uri", wellKnown)
	}
	if skipIssuer {
		doc.IssuerURL = i.cfg.Issuer
	}
	p := doc.ProviderConfig.NewProvider(i.ctx(context.Background()))
	scopes := i.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email"}
		if slices.Contains(doc.ScopesSupported, oidc.ScopeOfflineAccess) && i.cfg.Provider != "google" {
			scopes = append(scopes, oidc.ScopeOfflineAccess)
		}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.provider != nil {
		return nil
	}
	i.provider, i.endSession, i.scopes, i.lastErr = p, doc.EndSession, scopes, nil
	i.skipIssuer = skipIssuer
	i.once.Do(func() { close(i.discovered) })
	i.log.Info("identity provider discovered", "issuer", i.cfg.Issuer, "offline_access", slices.Contains(scopes, oidc.ScopeOfflineAccess))
	return nil
}

// get is the discovered provider; before discovery it tries once more
// (bounded by ctx) so a first sign-in right after start-up works.
func (i *idp) get(ctx context.Context) (*oidc.Provider, error) {
	i.mu.Lock()
	p := i.provider
	i.mu.Unlock()
	if p != nil {
		return p, nil
	}
	if err := i.discover(ctx); err != nil {
		i.mu.Lock()
		i.lastErr = err
		i.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrIdPUnavailable, err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.provider, nil
}

func (i *idp) oauth2(p *oidc.Provider, redirectURL string) *oauth2.Config {
	i.mu.Lock()
	scopes := i.scopes
	i.mu.Unlock()
	return &oauth2.Config{
		ClientID: i.cfg.ClientID, ClientSecret: i.cfg.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: redirectURL, Scopes: scopes,
	}
}

// authParams are provider quirks for the authorization request.
func (i *idp) authParams() []oauth2.AuthCodeOption {
	var out []oauth2.AuthCodeOption
	if i.cfg.Provider == "google" {
		// Google gives refresh tokens for access_type=offline, not for
		// the offline_access scope.
		out = append(out, oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "consent"))
	}
	for k, v := range i.cfg.RequestParams {
		out = append(out, oauth2.SetAuthURLParam(k, v))
	}
	return out
}

func (i *idp) verifier(p *oidc.Provider) *oidc.IDTokenVerifier {
	i.mu.Lock()
	skip := i.skipIssuer
	i.mu.Unlock()
	return p.Verifier(&oidc.Config{ClientID: i.cfg.ClientID, SkipIssuerCheck: skip})
}

func (i *idp) endSessionURL() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.endSession
}
