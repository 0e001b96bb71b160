package server

import (
	"context"
	"reflect"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/porthole-dev/porthole/server/config"
)

// TestScopes: idp_scopes is what the provider is asked for, with openid
// added when missing; without it, config.DefaultScopes.
func TestScopes(t *testing.T) {
	p := (&oidc.ProviderConfig{IssuerURL: "https://idp.example.com", AuthURL: "https://idp.example.com/auth", TokenURL: "https://idp.example.com/token"}).
		NewProvider(context.Background())
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"default", nil, config.DefaultScopes},
		{"configured", []string{"openid", "email", "groups"}, []string{"openid", "email", "groups"}},
		{"openid added", []string{"email", "groups"}, []string{"openid", "email", "groups"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newRelyingParty(rpConfig{Issuer: "https://idp.example.com", ClientID: "c", Scopes: tc.in}).oauth2(p, "https://proxy/cb").Scopes
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("scopes: got %q; want %q", got, tc.want)
			}
		})
	}
}
