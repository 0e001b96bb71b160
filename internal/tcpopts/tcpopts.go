// Package tcpopts picks TCP socket options for the tunnel's connections.
package tcpopts

import (
	"net"
	"net/netip"
	"strings"
	"time"
)

// KeepAlive is the net.Dialer / net.ListenConfig KeepAlive for a
// connection to or on addr (host:port): off (-1) when the host is a
// loopback address or "localhost", Go's default (0) otherwise. Keepalive
// probes find a peer that vanished from the network; on loopback the
// kernel knows at once, and the four setsockopt calls that turn them on
// are a measurable part of opening a tunneled connection.
func KeepAlive(addr string) time.Duration {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return -1
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return -1
	}
	return 0
}
