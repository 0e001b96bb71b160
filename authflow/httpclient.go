package authflow

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
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

// HTTPOptions shape the client. Overall caps each whole exchange (a
// server that trickles its body), Stall fails a connection on which
// nothing moves (a server that goes silent), headers included; zero means
// the default. HTTP1Only keeps to HTTP/1.1, for a process that makes a
// call or two and exits (the CLI): there HTTP/2's set-up, a SETTINGS
// exchange and two more goroutines, costs more than its multiplexing
// saves (on the bench's VM, 6% of `routes list`'s time and CPU on one P,
// a quarter of its CPU on two).
type HTTPOptions struct {
	Overall, Stall time.Duration
	HTTP1Only      bool
}

// NewHTTPClient is NewHTTPClientOptions with the defaults.
func NewHTTPClient(cfg *tls.Config) *http.Client {
	return NewHTTPClientOptions(cfg, HTTPOptions{})
}

// NewHTTPClientOptions is the client front ends give Flow and
// portalclient: TLS from cfg (tlsconfig.Options.Config), HTTPS_PROXY/
// NO_PROXY honoured, HTTP/2 when offered (unless o.HTTP1Only), every call
// bounded by o, and redirects returned rather than followed (a 302 from
// the proxy means "sign in", which the callers handle).
func NewHTTPClientOptions(cfg *tls.Config, o HTTPOptions) *http.Client {
	if o.Overall <= 0 {
		o.Overall = DefaultHTTPTimeout
	}
	if o.Stall <= 0 {
		o.Stall = DefaultStallTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg != nil {
		tr.TLSClientConfig = cfg.Clone()
	}
	d := &net.Dialer{Timeout: o.Stall, KeepAlive: 30 * time.Second}
	tr.DialContext = bounded.StallDialer(d.DialContext, o.Stall)
	tr.TLSHandshakeTimeout = o.Stall
	tr.ResponseHeaderTimeout = o.Stall
	alpn := []string{"h2", "http/1.1"}
	tr.ForceAttemptHTTP2 = true
	if o.HTTP1Only {
		alpn = []string{"http/1.1"}
		tr.ForceAttemptHTTP2 = false
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(true)
	}
	tr.Proxy = http.ProxyFromEnvironment
	if tlsconfig.HasFallback(cfg) {
		fallbackDial(tr, o.Stall, alpn)
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       o.Overall,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// fallbackDial makes tr open its https connections with proxydial, which
// trusts the config's extra CAs first and the system's roots only when
// the server's certificate needs them: tlsconfig.Config leaves the
// system's roots out of a config with extra CAs, and http.Transport's own
// handshake has no second try. proxydial then also makes the CONNECT
// through the forward proxy tr.Proxy picks for an https URL, since the
// Transport would run that handshake after its own; http:// URLs keep the
// Transport's proxying, and when their forward proxy is an https:// one,
// the Transport's dial to it goes straight there.
func fallbackDial(tr *http.Transport, stall time.Duration, alpn []string) {
	base := tr.TLSClientConfig
	proxy := tr.Proxy
	through := &proxydial.Dialer{Proxy: proxy, NetDial: tr.DialContext, ForwardRoots: base.RootCAs}
	direct := &proxydial.Dialer{NetDial: tr.DialContext, ForwardRoots: base.RootCAs}
	var forwardTLS sync.Map // host:port of https:// forward proxies of http:// URLs
	tr.Proxy = func(req *http.Request) (*url.URL, error) {
		if req.URL.Scheme == "https" || proxy == nil {
			return nil, nil
		}
		u, err := proxy(req)
		if u != nil && strings.EqualFold(u.Scheme, "https") {
			forwardTLS.Store(proxydial.Addr(u), struct{}{})
		}
		return u, err
	}
	tr.DialTLSContext = func(ctx context.Context, _, addr string) (net.Conn, error) {
		d := through
		if _, ok := forwardTLS.Load(addr); ok {
			d = direct // the Transport reaching the forward proxy itself
		}
		cfg := base.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		cfg.NextProtos = alpn
		// The Transport's TLSHandshakeTimeout does not cover a dial of
		// our own.
		ctx, cancel := context.WithTimeoutCause(ctx, stall, fmt.Errorf("no TLS handshake with %s within %s", addr, stall))
		defer cancel()
		return d.TLS(ctx, addr, cfg, nil)
	}
}
