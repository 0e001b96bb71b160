package server_test

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/devca"
	"github.com/porthole-dev/porthole/server/devidp"
)

// startConfigured runs a non-dev server from yml (certificate lines are
// added) and returns it with its log.
func startConfigured(t *testing.T, ca *devca.CA, dir, yml string) (*server.Server, *testutil.DevServer, *testutil.SyncBuffer) {
	t.Helper()
	cert, err := ca.ServerCert([]string{"localhost", "127.0.0.1", "public.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writePair(t, dir, cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte("address: " + ln.Addr().String() + "\ncertificate_file: " + certFile + "\ncertificate_key_file: " + keyFile + "\n" + yml))
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	s, err := server.New(server.Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s, ln, logs)
	addr := ln.Addr().String()
	return s, &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: addr}, Addr: addr, CAPool: ca.Pool}, logs
}

// TestUnreachableProviderDoesNotBlock: with the identity provider down
// the server starts at once and serves public routes and tunnels of
// existing sessions; only a sign-in is refused (503), and discovery keeps
// retrying in the background.
func TestUnreachableProviderDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	ca, err := devca.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := testutil.RefusedAddr(t)
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "public page") }))
	defer public.Close()
	echo := echoListener(t)
	start := time.Now()
	s, d, logs := startConfigured(t, ca, dir, `idp_provider_url: https://`+deadAddr+`/idp
idp_client_id: porthole
routes:
  - from: https://public.localhost
    to: `+public.URL+`
    allow_public_unauthenticated_access: true
  - from: tcp+https://db.internal:5432
    to: tcp://`+echo+`
    allow_any_authenticated_user: true
`)
	// Generous for a loaded machine; waiting for the provider would be
	// for ever (it never comes up) or its retries' growing backoff.
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("start-up took %v with the provider down; want no wait for it", took)
	}
	resp, body := get(t, browser(t, d), hostURL(d, "public.localhost")+"/", nil)
	if resp.StatusCode != http.StatusOK || body != "public page" {
		t.Errorf("public route with the provider down: got %d %q; want 200", resp.StatusCode, body)
	}
	tok := issue(t, s, "dev@example.com", time.Hour)
	resp, conn, _ := connectH1(t, d, "db.internal:5432", tok)
	conn.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("tunnel of an existing session with the provider down: got %d; want 200", resp.StatusCode)
	}
	c := apiClient(t, d)
	resp, _ = get(t, c, d.URL.String()+"/.pomerium/sign_in", nil)
	resp, body = get(t, c, resp.Header.Get("Location"), nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("sign-in with the provider down: got %d %q; want 503", resp.StatusCode, body)
	}
	within(t, 2*time.Minute, "discovery failure logged", func() bool {
		return strings.Contains(logs.String(), "identity provider discovery failed") && strings.Contains(logs.String(), deadAddr)
	})
}

// TestIssuerMismatchReportedAtStart: an idp_provider_url that differs
// from the provider's own issuer (here by a trailing slash) is reported
// at start-up, naming both, before anyone signs in.
func TestIssuerMismatchReportedAtStart(t *testing.T) {
	dir := t.TempDir()
	ca, err := devca.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	idpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "https://" + idpLn.Addr().String() + "/idp"
	idp, err := devidp.New(devidp.Options{Issuer: issuer, ClientID: "porthole", ClientSecret: "s3cret-s3cret",
		RedirectURIs: []string{"https://127.0.0.1/oauth2/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/idp/", idp.Handler())
	idpSrv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go idpSrv.ServeTLS(idpLn, "", "")
	defer idpSrv.Close()
	_, _, logs := startConfigured(t, ca, dir, "idp_provider_url: "+issuer+"/\nidp_client_id: porthole\ncertificate_authority_file: "+ca.CertFile+"\n")
	within(t, 2*time.Minute, "issuer mismatch logged with both values", func() bool {
		l := logs.String()
		return strings.Contains(l, "issuer mismatch") && strings.Contains(l, issuer+`/\"`) && strings.Contains(l, issuer+`\"`)
	})
}
