package cmdutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// Explain is the one place an error becomes what the user reads: one
// line, and for a failure we recognise, a hint saying what to do next.
// server names the proxy the command talked to ("" when unknown). Both
// are escaped for a terminal: errors quote servers and files. cli.Run
// prints them as "Error: LINE" and "Hint: HINT"; the tunnel commands
// print them per connection; the desktop app can show them as they are.
func Explain(err error, server string) (line, hint string) {
	if err == nil {
		return "", ""
	}
	line = err.Error()
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i] // the user sees one line; --verbose shows the rest
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		// Go's text ("Get \"https://...\": dial tcp: lookup x: no such
		// host") buries the one thing to fix: the name.
		line = "cannot resolve host " + dnsErr.Name
		if dnsErr.Err != "" {
			line += ": " + dnsErr.Err
		}
	}
	return termtext.Escape(strings.TrimSpace(line)), termtext.Escape(Hint(err, server))
}

// Hint suggests a fix for a well-known failure, "" for others.
func Hint(err error, server string) string {
	if server == "" {
		server = "URL"
	}
	for _, h := range hints {
		if s := h(err, server); s != "" {
			return s
		}
	}
	return ""
}

// hints are tried in order; the first that recognises err answers.
var hints = []func(err error, server string) string{
	hintSignIn,
	hintDNS,
	hintTLS,
	hintRefused,
	hintUnreachable,
	hintTimeout,
	hintNoRoute,
	hintRouteName,
	hintDenied,
	hintUpstream,
	hintNoPortal,
	hintNoConnection,
}

func hintSignIn(err error, server string) string {
	if !isUnauthorized(err) {
		return ""
	}
	if refusedAfterSignIn(err) {
		// Signing in again would go round in circles.
		return "the proxy refused the token it had just issued: its administrator should check the server's log (replicas with different shared_secret, a wrong clock)"
	}
	return "sign in again with: pomerium-cli login " + server
}

// refusedAfterSignIn recognises a sign-in the proxy still wants right
// after a fresh one: the portal client says so, and a tunnel returns a
// 401 or a redirect only after its one sign-in.
func refusedAfterSignIn(err error) bool {
	var he *portalclient.HTTPError
	if errors.As(err, &he) {
		return he.SignedIn
	}
	return statusError(err) != nil
}

func hintDNS(err error, _ string) string {
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) {
		return ""
	}
	if dnsErr.IsTimeout || dnsErr.IsTemporary {
		return "the DNS server did not answer; check your network, then try again"
	}
	return "check the host name in the URL (a typo?); if it is right, check your DNS or VPN"
}

func hintTLS(err error, _ string) string {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		certErr   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknownCA) || strings.Contains(err.Error(), "certificate signed by unknown authority"):
		return "if the proxy uses a private CA, pass --alternate-ca-path FILE"
	case errors.As(err, &hostErr):
		return "the proxy's certificate does not name this host; check the URL"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "the proxy's certificate has expired (or this machine's clock is wrong); tell the proxy's administrator"
	case errors.As(err, &certErr):
		return "the proxy's certificate did not verify; pass --alternate-ca-path FILE for a private CA"
	}
	return ""
}

func hintRefused(err error, server string) string {
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return ""
	}
	host := server
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Addr != nil {
		host = opErr.Addr.String()
	}
	return "is the proxy running at " + host + "? check the URL and port"
}

func hintUnreachable(err error, _ string) string {
	if errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) {
		return "no route to the proxy from this machine: check your network or VPN"
	}
	return ""
}

func hintTimeout(err error, _ string) string {
	if strings.Contains(err.Error(), "--login-timeout") {
		return "" // a sign-in that timed out already says what to do
	}
	var (
		opErr  *net.OpError
		urlErr *url.Error
	)
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &opErr) && opErr.Timeout() || errors.As(err, &urlErr) && urlErr.Timeout() {
		return "the proxy did not answer in time: check the URL, your network and HTTPS_PROXY; " +
			EnvHTTPTimeout + " and " + EnvHTTPStallTimeout + " change the limits"
	}
	return ""
}

func hintNoRoute(err error, server string) string {
	if !tunnel.IsNoRoute(err) {
		return ""
	}
	if se := statusError(err); se != nil && se.Proxy != "" {
		server = se.Proxy
	}
	return "see the routes you may use: pomerium-cli routes list " + server
}

func hintRouteName(err error, server string) string {
	var rne *RouteNameError
	if !errors.As(err, &rne) {
		return ""
	}
	if rne.Server != "" {
		server = rne.Server
	}
	return "see the routes you may use: pomerium-cli routes list " + server
}

// hintDenied passes on the policy's own explanation and remediation when
// the proxy gave them (pomerium-server's 403 says "why: ..." and "what to
// do: ..."), else says how to see who you are signed in as.
func hintDenied(err error, server string) string {
	if !tunnel.IsAccessDenied(err) {
		return ""
	}
	se := statusError(err)
	if se != nil && se.Proxy != "" {
		server = se.Proxy
	}
	var why, todo string
	if se != nil {
		for _, l := range strings.Split(se.Body, "\n") {
			l = strings.TrimSpace(l)
			if v, ok := strings.CutPrefix(l, "why: "); ok && why == "" {
				why = v
			}
			if v, ok := strings.CutPrefix(l, "what to do: "); ok && todo == "" {
				todo = v
			}
		}
	}
	var parts []string
	if why != "" {
		parts = append(parts, "the policy says: "+clip(why))
	}
	if todo != "" {
		parts = append(parts, clip(todo))
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	return "the route's policy does not allow this user; see who you are signed in as: pomerium-cli status " + server
}

func hintUpstream(err error, _ string) string {
	if se := statusError(err); se != nil && se.StatusCode >= 500 {
		return "the proxy is up but could not reach the service behind the route; try again later or tell the route's administrator"
	}
	return ""
}

func hintNoPortal(err error, _ string) string {
	if portalclient.IsNotFound(err) {
		return "check the URL: it should be the Pomerium proxy's address, e.g. https://proxy.example.com"
	}
	return ""
}

func statusError(err error) *tunnel.StatusError {
	var se *tunnel.StatusError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// clip bounds server text quoted in a hint.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// isUnauthorized recognises a sign-in the proxy still wants: the
// libraries' typed errors, or an Unauthorized/StatusCode method.
func isUnauthorized(err error) bool {
	if portalclient.IsUnauthorized(err) {
		return true
	}
	var se *tunnel.StatusError
	if errors.As(err, &se) {
		switch se.StatusCode {
		case 401, 301, 302, 303, 307, 308:
			return true
		}
	}
	var u interface{ Unauthorized() bool }
	if errors.As(err, &u) && u.Unauthorized() {
		return true
	}
	var s interface{ StatusCode() int }
	return errors.As(err, &s) && s.StatusCode() == 401
}

// ExplainLine is Explain as one line, "LINE; hint: HINT": what a tunnel
// prints for one failed connection while it keeps listening.
func ExplainLine(err error, server string) string {
	line, hint := Explain(err, server)
	if hint == "" {
		return line
	}
	return line + "; hint: " + hint
}

func hintNoConnection(err error, _ string) string {
	if errors.Is(err, connections.ErrNotFound) {
		return "see the saved connections: pomerium-cli connections list"
	}
	return ""
}
