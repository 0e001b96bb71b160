package authflow_test

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// systemCert is a server certificate under the fake system roots TestMain
// installs for every test of the package.
var systemCert tls.Certificate

func TestMain(m *testing.M) { os.Exit(testutil.MainWithSystemRoots(m, &systemCert)) }

// echoServer answers each request with its body over TLS with cert and
// counts the handshakes clients start (ClientHellos).
func echoServer(t *testing.T, cert tls.Certificate) (url string, hellos *atomic.Int32) {
	t.Helper()
	hellos = new(atomic.Int32)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused first handshakes
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			hellos.Add(1)
			return nil, nil
		},
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, hellos
}

// With --alternate-ca-path naming one CA, a server under a system root is
// still trusted, as pomerium-cli trusts it: the client retries with the
// system's roots, a body included, and remembers the host.
func TestHTTPClientFallsBackToSystemRoots(t *testing.T) {
	extra, extraCert := testutil.LoopbackCA(t)
	cfg, err := tlsconfig.Options{CAFile: extra.CertFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	c := authflow.NewHTTPClient(cfg)
	url, hellos := echoServer(t, systemCert)

	post := func() (string, error) {
		resp, err := c.Post(url, "text/plain", strings.NewReader("hello"))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	got, err := post()
	if err != nil || got != "hello" {
		t.Fatalf("POST to a server under a system root: %q, %v; want the body echoed", got, err)
	}
	if n := hellos.Load(); n != 2 {
		t.Errorf("handshakes for the first request: %d; want 2 (the extra CA, then the system's roots)", n)
	}
	c.CloseIdleConnections()
	if got, err := post(); err != nil || got != "hello" {
		t.Fatalf("second POST: %q, %v", got, err)
	}
	if n := hellos.Load(); n != 3 {
		t.Errorf("handshakes after the second request: %d; want 3 (the host goes straight to the system's roots)", n)
	}

	// The second try happens at the dial, before anything of the request
	// is written: a body that cannot be rewound goes too.
	c2 := authflow.NewHTTPClient(cfg)
	req, err := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader("once")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c2.Do(req)
	if err != nil {
		t.Fatalf("POST of a body without GetBody: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "once" {
		t.Errorf("POST of a body without GetBody: echoed %q; want %q", b, "once")
	}

	// A server under the extra CA needs no fallback.
	url2, hellos2 := echoServer(t, extraCert)
	resp, err = c.Get(url2)
	if err != nil {
		t.Fatalf("GET from a server under the extra CA: %v", err)
	}
	resp.Body.Close()
	if n := hellos2.Load(); n != 1 {
		t.Errorf("handshakes with a server under the extra CA: %d; want 1", n)
	}
}

// A server under neither the extra CA nor a system root fails with the
// verification error of the first try.
func TestHTTPClientRejectsAStranger(t *testing.T) {
	extra, _ := testutil.LoopbackCA(t)
	_, cert := testutil.LoopbackCA(t)
	url, hellos := echoServer(t, cert)
	cfg, err := tlsconfig.Options{CAFile: extra.CertFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := authflow.NewHTTPClient(cfg).Get(url)
	if err == nil {
		resp.Body.Close()
		t.Fatal("GET from a server under an unknown CA succeeded")
	}
	if !tlsconfig.VerifyFailed(err) || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("error: %v; want the certificate verification error", err)
	}
	if n := hellos.Load(); n != 2 {
		t.Errorf("handshakes: %d; want 2 (the extra CA, then the system's roots)", n)
	}
}
