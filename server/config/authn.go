package config

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Authn is the sign-in part of the configuration, with Pomerium's keys.
type Authn struct {
	// AuthenticateServiceURL is where sign-in happens; the IdP's only
	// redirect URI is <it>/oauth2/callback.
	AuthenticateServiceURL string
	IdpProvider            string // "" means oidc
	// CertificateAuthority (base64 of PEM, or PEM) and
	// CertificateAuthorityFile are trusted for outbound TLS (the IdP),
	// besides the system roots.
	CertificateAuthority     string
	CertificateAuthorityFile string
	SignoutRedirectURL       string
}

// IdpProviders are the idp_provider values accepted: OpenID Connect and
// the named providers that are OpenID Connect underneath.
var IdpProviders = []string{"oidc", "auth0", "azure", "cognito", "gitlab", "google", "keycloak", "okta", "onelogin", "ping"}

// CheckIdpProvider refuses an idp_provider the server cannot speak to.
func CheckIdpProvider(name string) error {
	if name == "" || slices.Contains(IdpProviders, name) {
		return nil
	}
	return fmt.Errorf("%q is not supported: only OpenID Connect providers are (%s); for an OAuth-only provider such as GitHub put an OpenID Connect broker (Dex, Keycloak) in front",
		oneLine(name), strings.Join(IdpProviders, ", "))
}

var authnKeys = []string{
	"authenticate_service_url", "idp_provider", "certificate_authority", "certificate_authority_file",
	"signout_redirect_url",
}

func (c *Config) authnFields() map[string]fieldFn {
	return map[string]fieldFn{
		"authenticate_service_url":   str(&c.AuthenticateServiceURL),
		"idp_provider":               str(&c.IdpProvider),
		"certificate_authority":      str(&c.CertificateAuthority),
		"certificate_authority_file": str(&c.CertificateAuthorityFile),
		"signout_redirect_url":       str(&c.SignoutRedirectURL),
	}
}

func (c *Config) validateAuthn() error {
	if v := c.AuthenticateServiceURL; v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("authenticate_service_url: want https://host[:port] with no path, e.g. https://authenticate.example.com, got %q", oneLine(v))
		}
	}
	if err := CheckIdpProvider(c.IdpProvider); err != nil {
		return fmt.Errorf("idp_provider: %w", err)
	}
	if v := c.SignoutRedirectURL; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("signout_redirect_url: want an absolute https URL, got %q", oneLine(v))
		}
	}
	if c.CertificateAuthority != "" {
		if _, err := c.caPEM(); err != nil {
			return fmt.Errorf("certificate_authority: %w", err)
		}
	}
	return nil
}

// caPEM is certificate_authority as PEM (it may be written base64).
func (c *Config) caPEM() ([]byte, error) {
	v := strings.TrimSpace(c.CertificateAuthority)
	if strings.HasPrefix(v, "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || !strings.Contains(string(b), "-----BEGIN CERTIFICATE") {
		return nil, errors.New("want base64 of PEM certificates (base64 -w0 ca.pem) or the PEM itself")
	}
	return b, nil
}

// RootCAs is the system roots plus certificate_authority and
// certificate_authority_file (nil, nil when neither is set: use the
// system roots).
func (c *Config) RootCAs() (*x509.CertPool, error) {
	if c.CertificateAuthority == "" && c.CertificateAuthorityFile == "" {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if c.CertificateAuthority != "" {
		b, err := c.caPEM()
		if err != nil {
			return nil, fmt.Errorf("certificate_authority: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, errors.New("certificate_authority: no PEM certificate in it")
		}
	}
	if f := c.CertificateAuthorityFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("certificate_authority_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("certificate_authority_file %s: no PEM certificate in it", f)
		}
	}
	return pool, nil
}
