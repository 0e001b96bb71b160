package authflow

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/proxydial"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// Default bounds of every HTTP call to the portal and the login API.
const (
	DefaultHTTPTimeout  = 2 * time.Minute  // the whole call, body included
	DefaultStallTimeout = 30 * time.Second // no byte moving on the connection
)

// HTTPTimeouts bound each call: Overall caps the whole exchange (a server
// that trickles its body), Stall fails a connection on which nothing
// moves (a server that goes silent), headers included. Zero means the
// default.
type HTTPTimeouts struct {
	Overall, Stall time.Duration
}

// NewHTTPClient is NewHTTPClientTimeouts with the default bounds.
func NewHTTPClient(cfg *tls.Config) *http.Client {
	return NewHTTPClientTimeouts(cfg, HTTPTimeouts{})
}

// NewHTTPClientTimeouts is the client front ends give Flow and
// portalclient: TLS from cfg (tlsconfig.Options.Config), HTTPS_PROXY/
// NO_PROXY honoured, HTTP/2 when offered, every call bounded by t, and
// redirects returned rather than followed (a 302 from the proxy means
// "sign in", which the callers handle).
func NewHTTPClientTimeouts(cfg *tls.Config, t HTTPTimeouts) *http.Client {
	if t.Overall <= 0 {
		t.Overall = DefaultHTTPTimeout
	}
	if t.Stall <= 0 {
		t.Stall = DefaultStallTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg != nil {
		tr.TLSClientConfig = cfg.Clone()
	}
	d := &net.Dialer{Timeout: t.Stall, KeepAlive: 30 * time.Second}
	tr.DialContext = bounded.StallDialer(d.DialContext, t.Stall)
	tr.TLSHandshakeTimeout = t.Stall
	tr.ResponseHeaderTimeout = t.Stall
	tr.ForceAttemptHTTP2 = true
	tr.Proxy = http.ProxyFromEnvironment
	if tlsconfig.Fallback(cfg) != nil {
		fallbackDial(tr, t.Stall)
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       t.Overall,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// fallbackDial makes tr open its https connections with proxydial, which
// trusts the config's extra CAs first and the system's roots only when
// the server's certificate needs them: tlsconfig.Config leaves the
// system's roots out of a config with extra CAs, and http.Transport's own
// handshake has no second try. proxydial then also makes the CONNECT
// through HTTPS_PROXY, since the Transport would run the handshake after
// its own; plain http:// requests keep the Transport's proxying.
func fallbackDial(tr *http.Transport, stall time.Duration) {
	base := tr.TLSClientConfig
	pd := &proxydial.Dialer{Proxy: http.ProxyFromEnvironment, NetDial: tr.DialContext, ForwardRoots: base.RootCAs}
	tr.DialTLSContext = func(ctx context.Context, _, addr string) (net.Conn, error) {
		cfg := base.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		cfg.NextProtos = []string{"h2", "http/1.1"}
		// The Transport's TLSHandshakeTimeout does not cover a dial of
		// our own.
		ctx, cancel := context.WithTimeoutCause(ctx, stall, fmt.Errorf("no TLS handshake with %s within %s", addr, stall))
		defer cancel()
		return pd.TLS(ctx, addr, cfg, nil)
	}
	tr.Proxy = func(req *http.Request) (*url.URL, error) {
		if req.URL.Scheme == "https" {
			return nil, nil
		}
		return http.ProxyFromEnvironment(req)
	}
}
