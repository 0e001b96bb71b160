package devidp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	testPrefix   = "/.pomerium/dev-idp"
	testClientID = "porthole"
	testSecret   = "s3cret"
)

// rig is a dev provider mounted under testPrefix on a loopback TLS server,
// plus a relying party configured as the real server configures its own.
type rig struct {
	srv         *httptest.Server
	p           *Provider
	issuer      string
	redirectURI string
	http        *http.Client
	provider    *oidc.Provider
	oauth       oauth2.Config
}

func newRig(t *testing.T, mutate func(*Options)) *rig {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	r := &rig{srv: srv, issuer: srv.URL + testPrefix, redirectURI: srv.URL + "/.pomerium/callback"}
	opts := Options{
		Issuer:       r.issuer,
		ClientID:     testClientID,
		ClientSecret: testSecret,
		RedirectURIs: []string{r.redirectURI},
		Logger:       slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	if mutate != nil {
		mutate(&opts)
	}
	p, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.p = p
	mux.Handle(testPrefix+"/", p.Handler())
	// The relying party's own callback: never reached, CheckRedirect stops
	// there, but a 404 would hide a bug if it were.
	mux.HandleFunc("/.pomerium/callback", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "test callback reached", http.StatusTeapot)
	})

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	r.http = srv.Client()
	r.http.Jar = jar
	r.http.Timeout = 30 * time.Second
	r.http.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), r.redirectURI) {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}
	r.provider, err = oidc.NewProvider(r.ctx(t), r.issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s): %v", r.issuer, err)
	}
	r.oauth = oauth2.Config{
		ClientID:     testClientID,
		ClientSecret: testSecret,
		Endpoint:     r.provider.Endpoint(),
		RedirectURL:  r.redirectURI,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile", "groups", "offline_access", "unknown-scope"},
	}
	return r
}

func (r *rig) ctx(t *testing.T) context.Context {
	return oidc.ClientContext(t.Context(), r.http)
}

// authorize GETs the auth URL and follows redirects until the sign-in page
// or the client redirect URI.
func (r *rig) authorize(t *testing.T, verifier, state string) *http.Response {
	t.Helper()
	u := r.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-"+state))
	resp, err := r.http.Get(u)
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var (
	reHidden = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	reAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	reButton = regexp.MustCompile(`<button type="submit" name="email" value="([^"]+)"`)
)

type loginPageInfo struct {
	action, id string
	emails     []string
	body       string
}

func readLoginPage(t *testing.T, resp *http.Response) loginPageInfo {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page: got status %d; want 200; body %q", resp.StatusCode, body)
	}
	if !strings.Contains(body, "Sign in to the Porthole dev provider") {
		t.Fatalf("sign-in page: title missing in %q", body)
	}
	info := loginPageInfo{body: body}
	if m := reHidden.FindStringSubmatch(body); m != nil {
		info.id = m[1]
	}
	if m := reAction.FindStringSubmatch(body); m != nil {
		info.action = m[1]
	}
	for _, m := range reButton.FindAllStringSubmatch(body, -1) {
		info.emails = append(info.emails, m[1])
	}
	if info.id == "" || info.action == "" {
		t.Fatalf("sign-in page: no form or auth request id in %q", body)
	}
	return info
}

// choose POSTs the sign-in form as email and returns the response that
// stopped at the client redirect URI (or an error page).
func (r *rig) choose(t *testing.T, page loginPageInfo, email string) *http.Response {
	t.Helper()
	resp, err := r.http.PostForm(page.action, url.Values{"authRequestID": {page.id}, "email": {email}})
	if err != nil {
		t.Fatalf("POST sign-in: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// codeFrom checks that resp redirects to the client with the state and
// returns the code.
func (r *rig) codeFrom(t *testing.T, resp *http.Response, state string) string {
	t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("got status %d (%q); want a redirect to the client", resp.StatusCode, b)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != r.redirectURI {
		t.Fatalf("redirect: got %s; want %s", got, r.redirectURI)
	}
	if e := loc.Query().Get("error"); e != "" {
		t.Fatalf("redirect carries error %q: %s", e, loc.Query().Get("error_description"))
	}
	if got := loc.Query().Get("state"); got != state {
		t.Fatalf("state: got %q; want %q", got, state)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("redirect %s has no code", loc)
	}
	return code
}

type claims struct {
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
	Nonce         string   `json:"nonce"`
}

// exchange trades the code and verifies the ID token as the server does.
func (r *rig) exchange(t *testing.T, code, verifier string) (*oauth2.Token, *oidc.IDToken, claims) {
	t.Helper()
	tok, err := r.oauth.Exchange(r.ctx(t), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatal("token response has no id_token")
	}
	idt, err := r.provider.Verifier(&oidc.Config{ClientID: testClientID}).Verify(r.ctx(t), raw)
	if err != nil {
		t.Fatalf("Verify ID token: %v", err)
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return tok, idt, c
}

func TestFullFlowAsGuest(t *testing.T) {
	r := newRig(t, nil)
	verifier := oauth2.GenerateVerifier()
	page := readLoginPage(t, r.authorize(t, verifier, "state-guest"))
	if want := []string{"dev@example.com", "guest@example.com", "groups@example.com"}; !slices.Equal(page.emails, want) {
		t.Fatalf("sign-in page users: got %v; want %v", page.emails, want)
	}
	for _, want := range []string{"Dev User", "Guest User", "admins"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("sign-in page: %q missing", want)
		}
	}
	if !strings.HasPrefix(page.action, r.issuer+"/") {
		t.Errorf("form action %s: want under issuer %s", page.action, r.issuer)
	}
	code := r.codeFrom(t, r.choose(t, page, "guest@example.com"), "state-guest")
	tok, idt, c := r.exchange(t, code, verifier)

	if c.Email != "guest@example.com" || !c.EmailVerified || c.Name != "Guest User" {
		t.Errorf("claims: got %+v; want guest@example.com, verified, Guest User", c)
	}
	if len(c.Groups) != 0 {
		t.Errorf("groups: got %v; want none", c.Groups)
	}
	if c.Nonce != "n-state-guest" {
		t.Errorf("nonce: got %q; want %q", c.Nonce, "n-state-guest")
	}
	if idt.Subject != subjectFor("guest@example.com") {
		t.Errorf("sub: got %q; want %q", idt.Subject, subjectFor("guest@example.com"))
	}
	if idt.Issuer != r.issuer {
		t.Errorf("iss: got %q; want %q", idt.Issuer, r.issuer)
	}

	// userinfo with the access token, as go-oidc's UserInfo does.
	ui, err := r.provider.UserInfo(r.ctx(t), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if ui.Email != "guest@example.com" || ui.Subject != idt.Subject {
		t.Errorf("userinfo: got email %q sub %q; want guest@example.com %q", ui.Email, ui.Subject, idt.Subject)
	}

	// A code is single use.
	if _, err := r.oauth.Exchange(r.ctx(t), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Error("second Exchange of the same code: got success; want an error")
	}
}
