package tunnel

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/porthole-dev/porthole/internal/proxydial"
	"github.com/porthole-dev/porthole/internal/recbatch"
	"github.com/porthole-dev/porthole/internal/sockio"
)

// dialProxy opens a TLS connection to the proxy offering h2 (when
// offerH2) and http/1.1 with ALPN, through the forward proxy Config.Proxy picks, if any. Every step
// ends when ctx does.
func (t *Tunnel) dialProxy(ctx context.Context, offerH2 bool) (*proxyConn, error) {
	p := t.cfg.Destination.Proxy
	addr := proxydial.Addr(p) // an https:// URL (New checks)
	timeout := t.cfg.DialTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no answer from %s within %s", addr, timeout))
	defer cancel()
	cfg := t.tlsH1
	if offerH2 {
		cfg = t.tlsH2
	}
	tc, err := t.dialer.TLS(ctx, addr, cfg, func(raw net.Conn) net.Conn { return &eofConn{Conn: recbatch.New(sockio.Wrap(raw))} })
	if err != nil {
		return nil, err
	}
	ec := tc.NetConn().(*eofConn)
	return newProxyConn(tc, ec), nil
}
