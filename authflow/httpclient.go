package authflow

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/porthole-dev/porthole/internal/bounded"
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
	return &http.Client{
		Transport:     tr,
		Timeout:       t.Overall,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
