package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/devca"
	"github.com/porthole-dev/porthole/server/devidp"
)

// startTestIdP serves a built-in provider at https://127.0.0.1:PORT/idp
// that signs autoLogin in at once and accepts redirect as its one
// redirect URI; it returns the issuer.
func startTestIdP(t *testing.T, ca *devca.CA, clientID, secret, autoLogin, redirect string) string {
	t.Helper()
	cert, err := ca.ServerCert([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "https://" + ln.Addr().String() + "/idp"
	idp, err := devidp.New(devidp.Options{Issuer: issuer, ClientID: clientID, ClientSecret: secret,
		AutoLogin: autoLogin, RedirectURIs: []string{redirect}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/idp/", idp.Handler())
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 30 * time.Second}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return issuer
}

// signInRecorder is a browser (cookie jar, follows redirects, every name
// dialed at 127.0.0.1) that records the hosts it visits and the cookies
// it is given.
type signInRecorder struct {
	mu      sync.Mutex
	hosts   []string
	cookies []*http.Cookie
	base    http.RoundTripper
}

func (r *signInRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts = append(r.hosts, req.URL.Host)
	if err == nil {
		r.cookies = append(r.cookies, resp.Cookies()...)
	}
	return resp, err
}

func newSignInBrowser(t *testing.T, ca *devca.CA) (*http.Client, *signInRecorder) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return (&net.Dialer{Timeout: 30 * time.Second}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}}
	t.Cleanup(tr.CloseIdleConnections)
	rec := &signInRecorder{base: tr}
	return &http.Client{Jar: jar, Transport: rec, Timeout: 60 * time.Second}, rec
}

// TestSignInSettingsReload: sign-in settings apply on reload, as in
// Pomerium: after the config names another identity provider (URL,
// client id and secret), another cookie_expire and another api_admins,
// the next sign-in goes to the new provider and gets the new cookie
// lifetime, while sessions made before keep working. Keys that need a
// restart (shared_secret, http_redirect_addr) are named in one warning, not
// again on later reloads, and the warning clears when they are reverted.
// max_connections (first, while nothing else is connected) and
// log_level apply live too, and signout_redirect_url is where the next
// sign-out ends.
func TestSignInSettingsReload(t *testing.T) {
	dir := t.TempDir()
	ca, err := devca.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	callback := "https://localhost:" + port + "/oauth2/callback"
	issuerA := startTestIdP(t, ca, "porthole-a", "secret-a-secret-a", "dev@example.com", callback)
	issuerB := startTestIdP(t, ca, "porthole-b", "secret-b-secret-b", "guest@example.com", callback)
	app, _ := upstream(t, echoHandler("app"), nil)

	cert, err := ca.ServerCert([]string{"localhost", "app.localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writePair(t, dir, cert)
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	file := filepath.Join(dir, "config.yaml")
	write := func(idp, client, clientSecret, extra string) {
		t.Helper()
		yml := "certificate_file: " + certFile + "\ncertificate_key_file: " + keyFile + "\n" +
			"certificate_authority_file: " + ca.CertFile + "\n" +
			"authenticate_service_url: https://localhost:" + port + "\n" +
			"databroker_storage_type: memory\n" +
			"idp_provider_url: " + idp + "\nidp_client_id: " + client + "\nidp_client_secret: " + clientSecret + "\n" +
			extra +
			"routes:\n  - from: https://app.localhost:" + port + "\n    to: http://" + app + "\n" +
			"    allow_any_authenticated_user: true\n    pass_identity_headers: true\n"
		if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := "shared_secret: " + secret + "\n"
	write(issuerA, "porthole-a", "secret-a-secret-a", base+"max_connections: 1\n")
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	level := new(slog.LevelVar)
	s, err := server.New(server.Options{Config: cfg, ConfigFile: file, Address: addr, LogLevel: level, LogLevelFromConfig: true,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := serve(t, s, ln, logs)
	reload := func() {
		t.Helper()
		if err := s.Reload(ctx); err != nil {
			t.Fatalf("reload: %v", err)
		}
	}
	appURL := "https://app.localhost:" + port + "/whoami"
	signIn := func(wantEmail, wantIdP string) (*http.Client, *signInRecorder) {
		t.Helper()
		b, rec := newSignInBrowser(t, ca)
		resp, body := get(t, b, appURL, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in ended with %d: %s (visited %v)", resp.StatusCode, body, rec.hosts)
		}
		if got := decodeSeen(t, body).Header.Get("X-Pomerium-Claim-Email"); got != wantEmail {
			t.Errorf("signed in as %q; want %q (visited %v)", got, wantEmail, rec.hosts)
		}
		visited := strings.Join(rec.hosts, " ")
		if !strings.Contains(visited, strings.TrimPrefix(strings.TrimSuffix(wantIdP, "/idp"), "https://")) {
			t.Errorf("sign-in visited %v; want the provider %s", rec.hosts, wantIdP)
		}
		return b, rec
	}
	sessionMaxAge := func(rec *signInRecorder) int {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, c := range rec.cookies {
			if c.Name == "_pomerium" && c.MaxAge > 0 {
				return c.MaxAge
			}
		}
		return 0
	}

	t.Run("max_connections", func(t *testing.T) {
		// Held connections fill max_connections; one more is refused. A
		// reload raises the cap for the connections that come next.
		var held []*tls.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		dial := func() error {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp", addr, &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"})
			if err == nil {
				held = append(held, c)
			}
			return err
		}
		if err := dial(); err != nil {
			t.Fatalf("connection 1 of 1: %v", err)
		}
		if err := dial(); err == nil {
			t.Fatalf("a second connection was accepted with max_connections: 1")
		}
		write(issuerA, "porthole-a", "secret-a-secret-a", base+"max_connections: 3\n")
		reload()
		for i := 1; i < 3; i++ {
			if err := dial(); err != nil {
				t.Fatalf("connection %d of 3 after the reload: %v", i+1, err)
			}
		}
		if err := dial(); err == nil {
			t.Errorf("a fourth connection was accepted with max_connections: 3")
		}
	})
	write(issuerA, "porthole-a", "secret-a-secret-a", base)
	reload()

	before, rec := signIn("dev@example.com", issuerA)
	if got, want := sessionMaxAge(rec), int(config.DefaultCookieExpire.Seconds()); got != want {
		t.Errorf("session cookie Max-Age %d; want the default %d", got, want)
	}
	adminTok := issue(t, s, "ops@example.com", time.Hour)
	apiStatus := func() int {
		resp, _ := get(t, apiClient(t, &testutil.DevServer{CAPool: ca.Pool}), "https://"+addr+"/api/v0/organizations",
			map[string]string{"Authorization": "Pomerium " + adminTok})
		return resp.StatusCode
	}
	if code := apiStatus(); code != http.StatusForbidden {
		t.Fatalf("API as ops@example.com before api_admins names them: %d; want 403", code)
	}

	// Another provider, client, secret, cookie lifetime, admins, level.
	write(issuerB, "porthole-b", "secret-b-secret-b", base+"cookie_expire: 1h\napi_admins: [ops@example.com]\nlog_level: debug\n")
	reload()
	if !strings.Contains(logs.String(), "sign-in settings applied") {
		t.Errorf("the reload did not say it applied the sign-in settings")
	}
	_, rec = signIn("guest@example.com", issuerB)
	if got := sessionMaxAge(rec); got != 3600 {
		t.Errorf("session cookie Max-Age after cookie_expire: 1h: %d; want 3600", got)
	}
	if resp, body := get(t, before, appURL, nil); resp.StatusCode != http.StatusOK || decodeSeen(t, body).Header.Get("X-Pomerium-Claim-Email") != "dev@example.com" {
		t.Errorf("the session made before the reload: %d %s; want it kept", resp.StatusCode, body)
	}
	if code := apiStatus(); code != http.StatusOK {
		t.Errorf("API as ops@example.com after api_admins names them: %d; want 200", code)
	}
	if level.Level() != slog.LevelDebug {
		t.Errorf("log level %v after log_level: debug; want debug", level.Level())
	}

	// Restart-only keys: one warning naming them, not repeated.
	const warn = "apply on restart only"
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32))
	write(issuerB, "porthole-b", "secret-b-secret-b", "shared_secret: "+other+"\nhttp_redirect_addr: 127.0.0.1:1\n")
	reload()
	l := logs.String()
	if n := strings.Count(l, warn); n != 1 {
		t.Fatalf("%d restart warnings; want 1:\n%s", n, l)
	}
	line := l[strings.LastIndex(l[:strings.Index(l, warn)], "\n")+1:]
	line = line[:strings.Index(line, "\n")]
	if !strings.Contains(line, "keys=http_redirect_addr,shared_secret") {
		t.Errorf("restart warning %q; want it to name http_redirect_addr and shared_secret", line)
	}
	// The running secret stays: the session made at the start still works.
	if resp, _ := get(t, before, appURL, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("a session after a shared_secret edit (restart-only): %d; want 200", resp.StatusCode)
	}
	write(issuerB, "porthole-b", "secret-b-secret-b", "shared_secret: "+other+"\nhttp_redirect_addr: 127.0.0.1:1\ncookie_expire: 2h\n")
	reload()
	if n := strings.Count(logs.String(), warn); n != 1 {
		t.Errorf("%d restart warnings after a reload that changed nothing more of them; want still 1", n)
	}
	write(issuerB, "porthole-b", "secret-b-secret-b", base)
	reload()
	if !strings.Contains(logs.String(), "no restart needed") {
		t.Errorf("reverting the restart-only keys did not clear the warning")
	}

	// signout_redirect_url, set now, is where sign-out ends, by way of
	// the provider in use.
	write(issuerB, "porthole-b", "secret-b-secret-b", base+"signout_redirect_url: https://bye.localhost/done\n")
	reload()
	noFollow := *before
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Post("https://app.localhost:"+port+"/.pomerium/sign_out", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), strings.TrimSuffix(issuerB, "/idp")) ||
		loc.Query().Get("post_logout_redirect_uri") != "https://bye.localhost/done" {
		t.Errorf("sign-out answered %d %q; want 302 to provider B's end_session with post_logout_redirect_uri https://bye.localhost/done",
			resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, &noFollow, appURL, nil); resp.StatusCode != http.StatusFound {
		t.Errorf("the signed-out session: got %d; want 302 to sign in", resp.StatusCode)
	}
}
