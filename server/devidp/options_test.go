package devidp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestNewRejectsBadOptions(t *testing.T) {
	good := func() Options {
		return Options{
			Issuer:       "https://127.0.0.1:8443/.pomerium/dev-idp",
			ClientID:     "c",
			ClientSecret: "s",
			RedirectURIs: []string{"https://127.0.0.1:8443/.pomerium/callback"},
		}
	}
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string // "" means New must succeed
	}{
		{"good", func(*Options) {}, ""},
		{"trailing slash issuer", func(o *Options) { o.Issuer += "/" }, ""},
		{"http loopback", func(o *Options) { o.Issuer = "http://localhost:8080/idp" }, ""},
		{"http remote", func(o *Options) { o.Issuer = "http://idp.example.com/idp" }, "want https"},
		{"relative issuer", func(o *Options) { o.Issuer = "/.pomerium/dev-idp" }, "absolute URL"},
		{"issuer with query", func(o *Options) { o.Issuer += "?a=b" }, "absolute URL"},
		{"no client id", func(o *Options) { o.ClientID = "" }, "client id"},
		{"no secret", func(o *Options) { o.ClientSecret = "" }, "client secret"},
		{"no redirect", func(o *Options) { o.RedirectURIs = nil }, "redirect URI"},
		{"auto-login unknown", func(o *Options) { o.AutoLogin = "nobody@example.com" }, "no such dev user"},
		{"auto-login known", func(o *Options) { o.AutoLogin = "guest@example.com" }, ""},
		{"bad email", func(o *Options) { o.Users = []User{{Email: "dev"}} }, "name@domain"},
		{"duplicate user", func(o *Options) {
			o.Users = []User{{Email: "a@example.com"}, {Email: "A@example.com"}}
		}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good()
			tt.mutate(&o)
			p, err := New(o)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: got %v; want success", err)
			case tt.wantErr == "" && p.Handler() == nil:
				t.Fatal("Handler: got nil")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New: got %v; want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestIssuerAtRoot checks the provider also works when the issuer has no
// path, mounted at "/".
func TestIssuerAtRoot(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	redirect := srv.URL + "/cb"
	p, err := New(Options{Issuer: srv.URL, ClientID: "c", ClientSecret: "s", RedirectURIs: []string{redirect}, AutoLogin: "dev@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", p.Handler())
	hc := srv.Client()
	hc.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	ctx := oidc.ClientContext(t.Context(), hc)
	prov, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	cfg := oauth2.Config{ClientID: "c", ClientSecret: "s", Endpoint: prov.Endpoint(), RedirectURL: redirect, Scopes: []string{"openid"}}
	v := oauth2.GenerateVerifier()
	resp, err := hc.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("got status %d; want a redirect to %s", resp.StatusCode, redirect)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: "c"}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// Only "openid" was asked for; the dev provider still sends the
	// identity claims policies need.
	var c struct {
		Email  string
		Groups []string
	}
	if err := idt.Claims(&c); err != nil || c.Email != "dev@example.com" || len(c.Groups) != 1 || c.Groups[0] != "admins" {
		t.Fatalf("claims: got email %q groups %v (%v); want dev@example.com [admins]", c.Email, c.Groups, err)
	}
}
