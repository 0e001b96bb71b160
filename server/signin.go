package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/redirect"
	"github.com/porthole-dev/porthole/server/session"
)

// rpConfig is the OIDC client registration.
type rpConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// RequestParams are idp_request_params: extra authorization request
	// parameters (prompt, hd, ...).
	RequestParams map[string]string
	// HTTPClient talks to the provider (the dev CA is trusted in --dev).
	HTTPClient *http.Client
}

// relyingParty discovers the provider lazily: in --dev the provider is
// served by this very server, which is not listening yet at New.
type relyingParty struct {
	cfg      rpConfig
	mu       sync.Mutex
	provider *oidc.Provider
}

func newRelyingParty(cfg rpConfig) *relyingParty {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = config.DefaultScopes
	}
	return &relyingParty{cfg: cfg}
}

func (rp *relyingParty) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, rp.cfg.HTTPClient)
}

func (rp *relyingParty) discover(ctx context.Context) (*oidc.Provider, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.provider != nil {
		return rp.provider, nil
	}
	p, err := oidc.NewProvider(rp.ctx(ctx), rp.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering identity provider %s: %w", rp.cfg.Issuer, err)
	}
	rp.provider = p
	return p, nil
}

func (rp *relyingParty) oauth2(p *oidc.Provider, redirectURL string) *oauth2.Config {
	scopes := rp.cfg.Scopes
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	return &oauth2.Config{
		ClientID: rp.cfg.ClientID, ClientSecret: rp.cfg.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: redirectURL, Scopes: scopes,
	}
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func callbackURL(r *http.Request) string { return "https://" + r.Host + "/.pomerium/callback" }

// handleSignIn starts the authorization code flow. Either
// pomerium_redirect_uri (programmatic: a loopback or whitelisted URL that
// gets pomerium_jwt) or return (a path on this host) says where to go next.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	st := session.State{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Redirect: "/.pomerium/routes"}
	q := r.URL.Query()
	if v := q.Get("pomerium_redirect_uri"); v != "" {
		u, err := redirect.Programmatic(v, s.whitelist)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		st.Redirect, st.Program = u.String(), true
	} else if v := q.Get("return"); v != "" {
		loc, err := redirect.ReturnPath(v, r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		st.Redirect = loc
	}
	p, err := s.rp.discover(r.Context())
	if err != nil {
		logErr(s.log, "sign-in", err)
		http.Error(w, "identity provider unavailable", http.StatusBadGateway)
		return
	}
	sealed, err := s.keys.SealState(st, stateTTL)
	if err != nil {
		logErr(s.log, "sign-in", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: sealed, Path: "/.pomerium/callback", MaxAge: int(stateTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	authURL := s.rp.oauth2(p, callbackURL(r)).AuthCodeURL(st.State, s.rp.authParams(oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))...)
	http.Redirect(w, r, authURL, http.StatusFound)
}

// handleCallback finishes the flow: state against the CSRF cookie, code
// exchange with the PKCE verifier, ID token and nonce verification.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		http.Error(w, "sign-in failed at the identity provider: "+e+" "+q.Get("error_description"), http.StatusBadRequest)
		return
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		http.Error(w, "sign-in state cookie missing or expired; start again", http.StatusBadRequest)
		return
	}
	st, err := s.keys.OpenState(c.Value)
	if err != nil || q.Get("state") == "" || q.Get("state") != st.State {
		http.Error(w, "sign-in state does not match (expired or forged); start again", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Path: "/.pomerium/callback", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	claims, err := s.exchange(r, q.Get("code"), st)
	if err != nil {
		logErr(s.log, "sign-in callback", err)
		http.Error(w, "sign-in failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	tok, err := s.keys.Issue(*claims, s.cookieExpire)
	if err != nil {
		logErr(s.log, "sign-in callback", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.log.Info("signed in", "user", claims.Email, "sub", claims.Subject, "programmatic", st.Program)
	if st.Program {
		// Checked again: the state was sealed by a server that may have
		// had a different whitelist.
		u, err := redirect.Programmatic(st.Redirect, s.whitelist)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		qq := u.Query()
		qq.Set("pomerium_jwt", tok)
		u.RawQuery = qq.Encode()
		found(w, u.String())
		return
	}
	// The stored value is sent verbatim (http.Redirect would clean it
	// again), and checked again as it is what the browser follows.
	if err := redirect.CheckLocalLocation(st.Redirect); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.setSessionCookie(w, tok)
	found(w, st.Redirect)
}

// found answers 302 to loc exactly as given.
func found(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

func (s *Server) setSessionCookie(w http.ResponseWriter, tok string) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", MaxAge: int(s.cookieExpire.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) exchange(r *http.Request, code string, st *session.State) (*session.Claims, error) {
	if code == "" {
		return nil, errors.New("no code in the callback")
	}
	ctx := s.rp.ctx(r.Context())
	p, err := s.rp.discover(ctx)
	if err != nil {
		return nil, err
	}
	oc := s.rp.oauth2(p, callbackURL(r))
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, errors.New("no id_token in the token response")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.rp.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verifying the id token: %w", err)
	}
	if idt.Nonce != st.Nonce {
		return nil, errors.New("id token nonce does not match")
	}
	all := map[string]any{}
	if err := idt.Claims(&all); err != nil {
		return nil, fmt.Errorf("reading id token claims: %w", err)
	}
	// Some providers put email and groups only in userinfo.
	if _, hasEmail := all["email"]; !hasEmail || all["groups"] == nil {
		if ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			extra := map[string]any{}
			if ui.Claims(&extra) == nil {
				for k, v := range extra {
					if _, ok := all[k]; !ok {
						all[k] = v
					}
				}
			}
		}
	}
	for _, k := range []string{"iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "auth_time", "azp", "sid", "jti"} {
		delete(all, k)
	}
	c := &session.Claims{Subject: idt.Subject, Claims: all}
	c.Email, _ = all["email"].(string)
	if gs, ok := all["groups"].([]any); ok {
		for _, g := range gs {
			if s, ok := g.(string); ok {
				c.Groups = append(c.Groups, s)
			}
		}
	}
	return c, nil
}

// handleLoginAPI is GET /.pomerium/api/v1/login?pomerium_redirect_uri=...
func (s *Server) handleLoginAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	if !q.Has("pomerium_redirect_uri") {
		http.Error(w, "pomerium_redirect_uri is required", http.StatusNotFound)
		return
	}
	u, err := redirect.Programmatic(q.Get("pomerium_redirect_uri"), s.whitelist)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	signIn := url.URL{Scheme: "https", Host: r.Host, Path: "/.pomerium/sign_in",
		RawQuery: url.Values{"pomerium_redirect_uri": {u.String()}}.Encode()}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, signIn.String())
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if r.URL.Query().Has("done") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><meta charset="utf-8"><title>Signed out</title><p>You are signed out. <a href="/.pomerium/routes">Sign in again</a></p>`+"\n")
		return
	}
	http.Redirect(w, r, "/.pomerium/sign_out?done=1", http.StatusFound)
}

// redirectToSignIn sends a browser to sign in and come back to r's page.
func redirectToSignIn(w http.ResponseWriter, r *http.Request) {
	v := url.Values{"return": {r.URL.RequestURI()}}
	http.Redirect(w, r, "/.pomerium/sign_in?"+v.Encode(), http.StatusFound)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}
