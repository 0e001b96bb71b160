package authflow

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// An http:// URL through an https:// forward proxy: the Transport sends
// the request to the proxy in absolute form, and its dial to the proxy
// goes straight there (TLS with the extra CAs), not through a CONNECT to
// itself, even when the same proxy also serves https URLs.
func TestFallbackDialHTTPThroughHTTPSProxy(t *testing.T) {
	ca, cert := testutil.LoopbackCA(t)
	var connects int
	fwd := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			connects++
			http.Error(w, "no CONNECT here", http.StatusMethodNotAllowed)
			return
		}
		_, _ = io.WriteString(w, "proxied "+r.URL.String())
	}))
	fwd.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	fwd.StartTLS()
	defer fwd.Close()
	proxyURL, err := url.Parse(fwd.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tlsconfig.Options{CAFile: ca.CertFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	// The client as NewHTTPClientOptions builds it, with one forward
	// proxy for every URL (HTTP_PROXY and HTTPS_PROXY alike) in place of
	// the environment's, which net/http reads once per process.
	c := NewHTTPClientOptions(cfg, HTTPOptions{Stall: 10 * time.Second})
	tr := c.Transport.(*http.Transport)
	tr.Proxy = func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	fallbackDial(tr, 10*time.Second, []string{"h2", "http/1.1"})
	resp, err := c.Get("http://portal.example/.pomerium/api/v1/routes")
	if err != nil {
		t.Fatalf("GET through the https forward proxy: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want := "proxied http://portal.example/.pomerium/api/v1/routes"; string(b) != want || connects != 0 {
		t.Errorf("proxy answered %q after %d CONNECTs; want %q and none", b, connects, want)
	}
}

// HTTP1Only keeps to HTTP/1.1 against a server that offers HTTP/2, both
// through the fallback dial (extra CAs) and the Transport's own (system
// roots, here verification off); without it the client takes HTTP/2.
func TestHTTP1Only(t *testing.T) {
	ca, cert := testutil.LoopbackCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	withCA, err := tlsconfig.Options{CAFile: ca.CertFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if !tlsconfig.HasFallback(withCA) {
		t.Fatal("a config with an extra CA has no fallback: the test would not reach fallbackDial")
	}
	insecure := &tls.Config{InsecureSkipVerify: true}
	tests := []struct {
		name  string
		cfg   *tls.Config
		h1    bool
		proto string
	}{
		{"fallback dial, default", withCA, false, "HTTP/2.0"},
		{"fallback dial, HTTP1Only", withCA, true, "HTTP/1.1"},
		{"Transport's dial, default", insecure, false, "HTTP/2.0"},
		{"Transport's dial, HTTP1Only", insecure, true, "HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewHTTPClientOptions(tt.cfg, HTTPOptions{Stall: 10 * time.Second, HTTP1Only: tt.h1})
			defer c.CloseIdleConnections()
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.Proto != tt.proto || string(b) != tt.proto {
				t.Errorf("client spoke %s, server saw %q; want %s", resp.Proto, b, tt.proto)
			}
		})
	}
}
