package authn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeDiscovery serves a discovery document whose issuer is issuer(srv)
// and counts the requests.
func fakeDiscovery(t *testing.T, issuer func(base string) string, scopes []string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": issuer(srv.URL), "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/keys", "end_session_endpoint": srv.URL + "/logout", "scopes_supported": scopes,
		})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestScopes: idp_scopes is what the provider is asked for, with openid
// added when missing; without it openid, profile, email and
// offline_access where the provider lists it (never for Google, which
// wants access_type=offline instead).
func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		provider  string
		in        []string
		supported []string
		want      []string
	}{
		{"default without offline", "", nil, []string{"openid", "email"}, []string{"openid", "profile", "email"}},
		{"default with offline", "", nil, []string{"openid", "offline_access"}, []string{"openid", "profile", "email", "offline_access"}},
		{"google", "google", nil, []string{"openid", "offline_access"}, []string{"openid", "profile", "email"}},
		{"configured", "", []string{"openid", "email", "groups"}, []string{"offline_access"}, []string{"openid", "email", "groups"}},
		{"openid added", "", []string{"email", "groups"}, nil, []string{"openid", "email", "groups"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeDiscovery(t, func(b string) string { return b }, tc.supported)
			i := newIdP(IdPConfig{Provider: tc.provider, Issuer: srv.URL, ClientID: "c", Scopes: tc.in, HTTPClient: srv.Client()}, slog.New(slog.DiscardHandler))
			p, err := i.get(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := i.oauth2(p, "https://proxy/cb").Scopes; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("scopes: got %q; want %q", got, tc.want)
			}
			if got := i.endSessionURL(); got != srv.URL+"/logout" {
				t.Errorf("end_session_endpoint: got %q; want %q", got, srv.URL+"/logout")
			}
		})
	}
}

// TestIssuerMismatch: a discovery document naming another issuer is
// refused with both values; provider quirks that are not mistakes pass.
func TestIssuerMismatch(t *testing.T) {
	for _, tc := range []struct {
		name       string
		provider   string
		configured func(base string) string
		published  func(base string) string
		wantErr    bool
	}{
		{"exact", "", func(b string) string { return b }, func(b string) string { return b }, false},
		{"trailing slash", "", func(b string) string { return b + "/" }, func(b string) string { return b }, true},
		{"wrong path", "", func(b string) string { return b + "/realms/x" }, func(b string) string { return b + "/realms/y" }, true},
		{"auth0 adds the slash", "auth0", func(b string) string { return b }, func(b string) string { return b + "/" }, false},
		{"azure tenant template", "azure", func(b string) string { return b + "/common/v2.0" }, func(b string) string { return b + "/{tenantid}/v2.0" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeDiscovery(t, tc.published, nil)
			i := newIdP(IdPConfig{Provider: tc.provider, Issuer: tc.configured(srv.URL), ClientID: "c", HTTPClient: srv.Client()}, slog.New(slog.DiscardHandler))
			_, err := i.get(context.Background())
			if tc.wantErr {
				if !errors.Is(err, errIssuerMismatch) || !strings.Contains(err.Error(), tc.configured(srv.URL)) || !strings.Contains(err.Error(), tc.published(srv.URL)) {
					t.Fatalf("got %v; want an issuer mismatch naming %q and %q", err, tc.configured(srv.URL), tc.published(srv.URL))
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v; want discovery to succeed", err)
			}
		})
	}
}
