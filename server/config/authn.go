package config

import (
	"fmt"
	"net/url"
)

// Authn is the sign-in part of the configuration, with Pomerium's keys
// (idp_provider and certificate_authority are in Settings).
type Authn struct {
	// AuthenticateServiceURL is where sign-in happens; the IdP's only
	// redirect URI is <it>/oauth2/callback.
	AuthenticateServiceURL string
	SignoutRedirectURL     string
}

func (c *Config) authnFields() map[string]fieldFn {
	return map[string]fieldFn{
		"authenticate_service_url": str(&c.AuthenticateServiceURL),
		"signout_redirect_url":     str(&c.SignoutRedirectURL),
	}
}

func (c *Config) validateAuthn() error {
	if v := c.AuthenticateServiceURL; v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("authenticate_service_url: want https://host[:port] with no path, e.g. https://authenticate.example.com, got %q", oneLine(v))
		}
	}
	if v := c.SignoutRedirectURL; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("signout_redirect_url: want an absolute https URL, got %q", oneLine(v))
		}
	}
	return nil
}
