package tunnel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/porthole-dev/porthole/internal/masque"
	"github.com/porthole-dev/porthole/internal/proxydial"
	"github.com/porthole-dev/porthole/internal/streamcopy"
)

const udpDestForms = "want host:port, udp+https://host:port or udp+https://proxy[:port]/host:port"

// ParseUDPDestination is ParseDestination for `udp`: the same forms with
// udp+https in place of tcp+https.
func ParseUDPDestination(dest, pomeriumURL string) (Destination, error) {
	s := strings.TrimSpace(dest)
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if !strings.EqualFold(scheme, "udp+https") {
			return Destination{}, fmt.Errorf("destination %q: scheme %q is not udp+https; %s", dest, scheme, udpDestForms)
		}
		s = "tcp+https://" + rest
	}
	d, err := ParseDestination(s, pomeriumURL)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), destForms, udpDestForms)
		return d, errors.New(strings.ReplaceAll(msg, "tcp+https://"+strings.TrimPrefix(s, "tcp+https://"), dest))
	}
	return d, nil
}

// connectUDP asks the proxy for a connect-udp tunnel (RFC 9298): HTTP/2
// extended CONNECT on a shared connection when the proxy offers h2 and
// extended CONNECT, else an HTTP/1.1 Upgrade on a connection of its own.
// The upstream carries DATAGRAM capsules both ways.
func (t *Tunnel) connectUDP(ctx context.Context, tok string) (upstream, int, string, error) {
	if !t.cfg.DisableHTTP2 {
		for attempt := 0; ; attempt++ {
			c, h1conn, err := t.getH2(ctx)
			if err != nil {
				return nil, 0, "", err
			}
			if h1conn != nil {
				return t.connectUDPH1(ctx, h1conn, tok)
			}
			if c == nil {
				break
			}
			up, code, body, err := t.connectUDPH2(ctx, c, tok)
			if err != nil && strings.Contains(err.Error(), "extended connect not supported") {
				break // an h2 proxy without RFC 8441: Upgrade over HTTP/1.1
			}
			if err != nil && attempt == 0 && ctx.Err() == nil {
				c.cc.Close()
				continue
			}
			return up, code, body, err
		}
	}
	conn, err := t.dialProxy(ctx, false)
	if err != nil {
		return nil, 0, "", err
	}
	return t.connectUDPH1(ctx, conn, tok)
}

// udpPath is the connect-udp path for the destination's authority.
func udpPath(authority string) (string, error) {
	h, p, err := net.SplitHostPort(authority)
	if err != nil {
		return "", err
	}
	return masque.Path(h, p), nil
}

func (t *Tunnel) connectUDPH1(ctx context.Context, conn *proxyConn, tok string) (upstream, int, string, error) {
	d := t.cfg.Destination
	// The authority and the token go into the request as they are: the
	// same guards as CONNECT's.
	_, err := d.requestTarget()
	if err == nil {
		err = checkHeaderToken(tok)
	}
	var path string
	if err == nil {
		path, err = udpPath(d.Authority)
	}
	if err != nil {
		conn.Close()
		return nil, 0, "", err
	}
	// The Host header names the destination, as pomerium-cli sends it; the
	// proxy routes by the path.
	head := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: %s\r\nCapsule-Protocol: ?1\r\n", path, d.Authority, masque.Protocol)
	br := bufio.NewReader(conn)
	ok, code, body, err := t.exchangeH1(ctx, conn, br, http.MethodGet, head, tok, "connect-udp for", func(code int) bool {
		// 200 is what Pomerium answers; 101 is RFC 9298's own.
		return code == http.StatusOK || code == http.StatusSwitchingProtocols
	})
	if !ok {
		return nil, code, body, err
	}
	return &h1Upstream{conn: conn, r: br}, http.StatusOK, "", nil
}

func (t *Tunnel) connectUDPH2(ctx context.Context, c *h2Conn, tok string) (upstream, int, string, error) {
	d := t.cfg.Destination
	fail := func(err error) (upstream, int, string, error) {
		c.cc.unreserve()
		c.streams.Add(-1)
		return nil, 0, "", err
	}
	if _, err := d.requestTarget(); err != nil {
		return fail(err)
	}
	path, err := udpPath(d.Authority)
	if err != nil {
		return fail(err)
	}
	if err := checkHeaderToken(tok); err != nil {
		return fail(err)
	}
	// Extended CONNECT needs the proxy's settings first (RFC 8441 §3).
	select {
	case <-c.cc.settings:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	c.cc.mu.Lock()
	ext := c.cc.extConnect
	c.cc.mu.Unlock()
	if !ext {
		return fail(errors.New("extended connect not supported by the proxy"))
	}
	hdrs := []hpack.HeaderField{
		{Name: ":method", Value: http.MethodConnect}, {Name: ":protocol", Value: masque.Protocol},
		{Name: ":scheme", Value: "https"}, {Name: ":path", Value: path}, {Name: ":authority", Value: d.Authority},
		{Name: "capsule-protocol", Value: "?1"},
	}
	if tok != "" {
		hdrs = append(hdrs, hpack.HeaderField{Name: "authorization", Value: "Pomerium " + tok, Sensitive: true})
	}
	up := &udpH2Upstream{conn: c}
	s, err := c.cc.open(ctx, hdrs, nil)
	if err != nil {
		up.Abort()
		return nil, 0, "", fmt.Errorf("connect-udp %s over HTTP/2 to %s: %w", d.Authority, d.Proxy.Host, proxydial.CtxErr(ctx, err))
	}
	up.s = s
	if s.status != http.StatusOK {
		code := s.status
		msg := readRefusal(ctx, s)
		up.Abort()
		return nil, code, msg, nil
	}
	return up, http.StatusOK, "", nil
}

// Write sends capsules on an HTTP/1.1 connect-udp tunnel.
func (u *h1Upstream) Write(p []byte) (int, error) { return u.conn.Write(p) }

// udpH2Upstream is a connect-udp stream: capsules are written whole as
// DATA.
type udpH2Upstream struct {
	conn     *h2Conn
	s        *h2Stream
	released sync.Once
}

func (u *udpH2Upstream) Read(p []byte) (int, error)  { return u.s.Read(p) }
func (u *udpH2Upstream) Write(p []byte) (int, error) { return u.s.Write(p) }

// carry is unused for datagrams (they are written as capsules).
func (u *udpH2Upstream) carry(net.Conn, func(int), func(streamcopy.Result)) {}

func (u *udpH2Upstream) Close() error {
	u.Abort()
	return nil
}

func (u *udpH2Upstream) Abort() {
	u.released.Do(func() {
		if u.s != nil {
			u.s.reset(http2.ErrCodeCancel, fmt.Errorf("%w: connect-udp closed", net.ErrClosed))
		}
		u.conn.streams.Add(-1)
	})
}
