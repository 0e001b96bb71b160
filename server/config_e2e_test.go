package server_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/authn"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/devca"
	"github.com/porthole-dev/porthole/server/devidp"
)

// TestConfiguredProvider runs the server from a YAML config (no --dev)
// against an OpenID provider on its own origin, as with Okta or Keycloak,
// served under a private CA that only certificate_authority_file makes
// trusted (no environment variable, no client handed in), with the one
// redirect URI of authenticate_service_url registered.
func TestConfiguredProvider(t *testing.T) {
	dir := t.TempDir()
	ca, err := devca.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert([]string{"localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writePair(t, dir, cert)

	idpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "https://" + idpLn.Addr().String() + "/idp"
	idp, err := devidp.New(devidp.Options{
		Issuer: issuer, Users: devidp.DefaultUsers, AutoLogin: "guest@example.com",
		ClientID: "porthole", ClientSecret: "s3cret-s3cret",
		RedirectURIs: []string{"https://" + srvLn.Addr().String() + "/oauth2/callback"},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/idp/", idp.Handler())
	idpSrv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go idpSrv.ServeTLS(idpLn, "", "")
	defer idpSrv.Close()

	echo := echoListener(t)
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	yaml := `
address: ` + srvLn.Addr().String() + `
authenticate_service_url: https://` + srvLn.Addr().String() + `
certificate_authority_file: ` + ca.CertFile + `
certificate_file: ` + certFile + `
certificate_key_file: ` + keyFile + `
idp_provider_url: ` + issuer + `
idp_client_id: porthole
idp_client_secret: s3cret-s3cret
shared_secret: ` + secret + `
cookie_secret: ` + secret + `
cookie_expire: 1h
programmatic_redirect_domain_whitelist: [callback.example.com]
routes:
  - from: tcp+https://db.internal:5432
    to: tcp://` + echo + `
    name: db
    allowed_users: [guest@example.com]
  - from: tcp+https://secret.internal:5432
    to: tcp://` + echo + `
    allowed_users: [dev@example.com]
`
	cfgFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	// Sessions outlive a restart in the store (here one kept across both).
	st := authn.NewMemoryStore()
	start := func(ln net.Listener) *server.Server {
		s, err := server.New(server.Options{Config: cfg, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		go s.Serve(context.Background(), ln)
		return s
	}
	s := start(srvLn)
	d := &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: srvLn.Addr().String()}, Addr: srvLn.Addr().String(), CAPool: ca.Pool}

	tok := loginToken(t, d)
	// Without idp_scopes the documented default is asked for, with
	// offline_access as the provider lists it.
	resp, _ := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/sign_in", nil)
	resp, _ = get(t, apiClient(t, d), resp.Header.Get("Location"), nil)
	if loc, err := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusFound || err != nil {
		t.Errorf("authenticate: got %d %q; want 302 to the provider", resp.StatusCode, resp.Header.Get("Location"))
	} else if got, want := loc.Query().Get("scope"), strings.Join(append(config.DefaultScopes, "offline_access"), " "); got != want {
		t.Errorf("scope asked of the provider: got %q; want %q (config.DefaultScopes and offline_access)", got, want)
	} else if got, want := loc.Query().Get("redirect_uri"), "https://"+srvLn.Addr().String()+"/oauth2/callback"; got != want {
		t.Errorf("redirect_uri: got %q; want %q", got, want)
	}
	resp, body := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{
		"Authorization": "Bearer Pomerium-" + tok, "Accept": "application/json"})
	if got := routeNames(t, body); resp.StatusCode != 200 || len(got) != 1 || got[0] != "db" {
		t.Fatalf("routes for guest: got %d %v; want only db", resp.StatusCode, got)
	}
	if resp, _, _ := connectH1(t, d, "secret.internal:5432", tok); resp.StatusCode != http.StatusForbidden {
		t.Errorf("guest on secret: got %d; want 403", resp.StatusCode)
	}
	resp, conn, br := connectH1(t, d, "db.internal:5432", tok)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT db: got %d; want 200", resp.StatusCode)
	}
	io.WriteString(conn, "select 1")
	got := make([]byte, 8)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "select 1" {
		t.Errorf("echo through db: got %q %v", got, err)
	}

	for _, tc := range []struct {
		redirect string
		want     int
	}{
		{"https://callback.example.com/done", 200},
		{"https://evil.example/done", 400},
		{"https://sub.callback.example.com/done", 400},
	} {
		t.Run("whitelist "+tc.redirect, func(t *testing.T) {
			resp, _ := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/login?pomerium_redirect_uri="+url.QueryEscape(tc.redirect), nil)
			if resp.StatusCode != tc.want {
				t.Errorf("got %d; want %d", resp.StatusCode, tc.want)
			}
		})
	}

	// Keys come from shared_secret: a restarted server accepts the session.
	s.Shutdown(context.Background())
	ln2, err := net.Listen("tcp", srvLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s2 := start(ln2)
	defer s2.Shutdown(context.Background())
	resp, _ = get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{"Authorization": "Bearer Pomerium-" + tok})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("session after restart with the same shared_secret: got %d; want 200", resp.StatusCode)
	}
}

func writePair(t *testing.T, dir string, cert tls.Certificate) (string, string) {
	t.Helper()
	var certPEM []byte
	for _, der := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, err := x509MarshalKey(cert)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func echoListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return testutil.Serve(t, ln, func(c net.Conn) { defer c.Close(); io.Copy(c, c) })
}
