package devidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestRefreshRotatesAndDisableEnds: offline_access gets a refresh token;
// each refresh replaces it (the old one is refused); once the user is
// disabled, refresh and userinfo are refused.
func TestRefreshRotatesAndDisableEnds(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AutoLogin = "guest@example.com"; o.TokenTTL = time.Minute })
	verifier := oauth2.GenerateVerifier()
	tok, _, _ := r.exchange(t, r.codeFrom(t, r.authorize(t, verifier, "s"), "s"), verifier)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for a request with offline_access")
	}
	if left := time.Until(tok.Expiry); left > time.Minute+5*time.Second || left < 30*time.Second {
		t.Errorf("access token lifetime: got %s; want about TokenTTL (1m)", left)
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return r.oauth.TokenSource(r.ctx(t), &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Second)}).Token()
	}
	next, err := refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh token not rotated: got %q", next.RefreshToken)
	}
	if raw, _ := next.Extra("id_token").(string); raw == "" {
		t.Error("refresh answer has no id_token")
	}
	if _, err := refresh(tok.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("reusing a rotated refresh token: got %v; want invalid_grant", err)
	}
	if err := r.p.SetDisabled("guest@example.com", true); err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(next.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refresh after disabling the user: got %v; want invalid_grant", err)
	}
	if err := r.p.SetDisabled("nobody@example.com", true); err == nil {
		t.Error("disabling an unknown user: got no error")
	}
}

// TestEndSession: end_session with a valid id_token_hint ends the user's
// session at the provider (counted, refresh tokens dropped) and returns to
// a registered post_logout_redirect_uri only.
func TestEndSession(t *testing.T) {
	back := "https://app.example/signed-out"
	r := newRig(t, func(o *Options) { o.AutoLogin = "dev@example.com"; o.PostLogoutRedirectURIs = []string{back} })
	verifier := oauth2.GenerateVerifier()
	tok, _, _ := r.exchange(t, r.codeFrom(t, r.authorize(t, verifier, "s"), "s"), verifier)
	idToken, _ := tok.Extra("id_token").(string)
	end := func(redirect string) *http.Response {
		t.Helper()
		q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {redirect}}
		c := *r.http
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Get(r.issuer + "/end_session?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := end("https://evil.example/"); resp.StatusCode == http.StatusFound && strings.HasPrefix(resp.Header.Get("Location"), "https://evil.example") {
		t.Errorf("end_session sent the browser to an unregistered post_logout_redirect_uri: %s", resp.Header.Get("Location"))
	}
	resp := end(back)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != back {
		t.Fatalf("end_session: got %d %q; want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), back)
	}
	if n := r.p.SignOuts("dev@example.com"); n != 1 {
		t.Errorf("SignOuts: got %d; want 1", n)
	}
	if _, err := r.oauth.TokenSource(r.ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Second)}).Token(); err == nil {
		t.Error("refresh after end_session: got a token; want refused")
	}
}

// TestManyGroups: groups@example.com has 60 distinct 36-character group
// ids, all of them in the ID token.
func TestManyGroups(t *testing.T) {
	gs := ManyGroups()
	seen := map[string]bool{}
	for _, g := range gs {
		if len(g) != 36 || seen[g] {
			t.Fatalf("group %q: want 36 characters, distinct", g)
		}
		seen[g] = true
	}
	if len(gs) != 60 {
		t.Fatalf("got %d groups; want 60", len(gs))
	}
	r := newRig(t, func(o *Options) { o.AutoLogin = "groups@example.com" })
	verifier := oauth2.GenerateVerifier()
	_, _, c := r.exchange(t, r.codeFrom(t, r.authorize(t, verifier, "s"), "s"), verifier)
	if len(c.Groups) != 60 || c.Groups[59] != gs[59] {
		t.Errorf("id token groups: got %d; want all 60", len(c.Groups))
	}
}
