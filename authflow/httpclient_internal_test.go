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
	// The client as NewHTTPClientTimeouts builds it, with one forward
	// proxy for every URL (HTTP_PROXY and HTTPS_PROXY alike) in place of
	// the environment's, which net/http reads once per process.
	c := NewHTTPClientTimeouts(cfg, HTTPTimeouts{Stall: 10 * time.Second})
	tr := c.Transport.(*http.Transport)
	tr.Proxy = func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	fallbackDial(tr, 10*time.Second)
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
