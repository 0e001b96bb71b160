package connections

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/porthole-dev/porthole/tunnel"
)

// Protocols of a connection: "" (tcp, the default) or "udp".
const (
	ProtocolTCP = ""
	ProtocolUDP = "udp"
)

// UDP reports whether c is a UDP connection.
func (c Connection) UDP() bool { return c.Protocol == ProtocolUDP }

// ParseDestination parses c's destination for its protocol.
func (c Connection) ParseDestination() (tunnel.Destination, error) {
	if c.UDP() {
		return tunnel.ParseUDPDestination(c.Destination, c.PomeriumURL)
	}
	return tunnel.ParseDestination(c.Destination, c.PomeriumURL)
}

// Listener is a started connection: a *tunnel.Listener (tcp) or a
// *tunnel.UDPListener (udp).
type Listener interface {
	Addr() net.Addr
	Stats() tunnel.Stats
	Stop() error
	Done() <-chan struct{}
	Err() error
}

// Listen starts c's local listener on addr with cfg, by its protocol.
func Listen(ctx context.Context, c Connection, addr string, cfg tunnel.Config) (Listener, error) {
	if c.UDP() {
		return tunnel.ListenUDP(ctx, addr, cfg, tunnel.UDPOptions{})
	}
	return tunnel.Listen(ctx, addr, cfg)
}

// normalizeProtocol accepts "", "tcp" and "udp" in any case.
func normalizeProtocol(p string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "", "tcp":
		return ProtocolTCP, nil
	case "udp":
		return ProtocolUDP, nil
	}
	return "", fmt.Errorf("%q: want tcp or udp", p)
}

// HostForm reports whether a route's from URL is in the host form
// (tcp+https://db.example.com:5432), whose host is only a routing key:
// the tunnel must dial the proxy the route was listed by.
func HostForm(from string) bool {
	u, err := url.Parse(strings.TrimSpace(from))
	if err != nil || u.Host == "" {
		return false
	}
	s := strings.ToLower(u.Scheme)
	return (s == "tcp+https" || s == "udp+https") && strings.Trim(u.Path, "/") == ""
}
