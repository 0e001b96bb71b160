package server

import "strings"

// stripHostDot drops one trailing dot from the host of a Host or
// :authority value ("verify.localhost.:8443" -> "verify.localhost:8443").
// A fully qualified name (RFC 1034 3.1) names the same host as the name
// without its root dot, and browsers and curl send it as typed. Envoy,
// which Pomerium runs, strips it before route matching when
// strip_trailing_host_dot is set, and the upstream then sees the name
// without it too; doing the same once, at the top of the handler, means
// route matching, the authenticate host, the portal host, cookies and
// the misdirected-request check all see one spelling. Only one dot goes:
// "host.." stays unmatched. TLS needs nothing: clients leave the dot out
// of SNI (RFC 6066 3) and Go's server refuses a ClientHello that has it.
func stripHostDot(hostport string) string {
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i:]
	}
	if len(host) < 2 || !strings.HasSuffix(host, ".") || strings.HasPrefix(host, "[") {
		return hostport
	}
	return host[:len(host)-1] + port
}
