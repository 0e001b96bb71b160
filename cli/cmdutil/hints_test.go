package cmdutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

type unauthorizedErr struct{}

func (unauthorizedErr) Error() string      { return "proxy answered 401 Unauthorized" }
func (unauthorizedErr) Unauthorized() bool { return true }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestExplain is the whole mapping from errors to the line and hint the
// user reads (cli.Run and the tunnel commands print what it returns).
func TestExplain(t *testing.T) {
	const server = "https://p.example.com"
	dial := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Err: err}
	}
	refused := dial(os.NewSyscallError("connect", syscall.ECONNREFUSED))
	dns := &net.DNSError{Err: "no such host", Name: "nosuch.invalid", IsNotFound: true}
	denied := &tunnel.StatusError{Proxy: "https://q.example.com", Authority: "db:5432", StatusCode: 403,
		Body: "access to db is denied by its policy\nwhy: only the DBA team\nwhat to do: ask in #db-access\n"}
	tests := []struct {
		name      string
		err       error
		wantLine  string // substring
		wantHint  string // exact
		hintHolds string // substring, when the hint is long
	}{
		{name: "unauthorized", err: fmt.Errorf("listing routes: %w", unauthorizedErr{}), wantHint: "sign in again with: pomerium-cli login " + server},
		{name: "portal 401", err: fmt.Errorf("listing routes: %w", &portalclient.HTTPError{URL: server, StatusCode: 401}), wantHint: "sign in again with: pomerium-cli login " + server},
		{name: "portal 401 right after a sign-in", err: &portalclient.HTTPError{URL: server, StatusCode: 401, SignedIn: true}, hintHolds: "refused the token it had just issued"},
		{name: "tunnel redirect after its sign-in", err: &tunnel.StatusError{Proxy: server, Authority: "db:1", StatusCode: 302}, hintHolds: "refused the token it had just issued"},
		{name: "DNS failure", err: &url.Error{Op: "Get", URL: server + "/.pomerium/api/v1/routes", Err: &net.OpError{Op: "dial", Net: "tcp", Err: dns}},
			wantLine: "cannot resolve host nosuch.invalid: no such host", hintHolds: "check the host name in the URL"},
		{name: "DNS timeout", err: fmt.Errorf("dialing: %w", &net.DNSError{Err: "i/o timeout", Name: "p.example.com", IsTimeout: true}),
			wantLine: "cannot resolve host p.example.com: i/o timeout", hintHolds: "DNS server did not answer"},
		{name: "unknown authority", err: fmt.Errorf("dial: %w", x509.UnknownAuthorityError{}), wantHint: "if the proxy uses a private CA, pass --alternate-ca-path FILE"},
		{name: "unknown authority, as text", err: errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), hintHolds: "--alternate-ca-path"},
		{name: "wrong host", err: &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "p"}}, hintHolds: "does not name this host"},
		{name: "expired", err: &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}, hintHolds: "expired"},
		{name: "other verification failure", err: &tls.CertificateVerificationError{Err: errors.New("x")}, hintHolds: "--alternate-ca-path"},
		{name: "connection refused", err: fmt.Errorf("dialing proxy: %w", refused), wantLine: "connection refused", wantHint: "is the proxy running at 127.0.0.1:9? check the URL and port"},
		{name: "network unreachable", err: dial(os.NewSyscallError("connect", syscall.ENETUNREACH)), hintHolds: "check your network or VPN"},
		{name: "dial timeout", err: dial(timeoutErr{}), hintHolds: "did not answer in time"},
		{name: "client timeout", err: &url.Error{Op: "Get", URL: server, Err: timeoutErr{}}, hintHolds: EnvHTTPTimeout},
		{name: "read deadline", err: fmt.Errorf("reading: %w", os.ErrDeadlineExceeded), hintHolds: "did not answer in time"},
		{name: "sign-in timeout keeps its own advice", err: fmt.Errorf("no sign-in within 5m (use --login-timeout to wait longer): %w", context.DeadlineExceeded), wantHint: ""},
		{name: "CONNECT 404", err: fmt.Errorf("tunnel: %w", &tunnel.StatusError{Proxy: "https://q.example.com", Authority: "nosuch:1", StatusCode: 404}),
			wantLine: "no route for nosuch:1 on https://q.example.com (404)", wantHint: "see the routes you may use: pomerium-cli routes list https://q.example.com"},
		{name: "route name", err: &RouteNameError{Server: "https://q.example.com", msg: `no tcp route named "x"; tcp routes: echo (tcp+https://q/echo:1)`},
			wantLine: `no tcp route named "x"; tcp routes: echo (tcp+https://q/echo:1) (at https://q.example.com)`, wantHint: "see the routes you may use: pomerium-cli routes list https://q.example.com"},
		{name: "CONNECT 403 with the policy's words", err: denied, wantLine: "access denied to db:5432", wantHint: "the policy says: only the DBA team; ask in #db-access"},
		{name: "CONNECT 403 bare", err: &tunnel.StatusError{Proxy: server, Authority: "db:1", StatusCode: 403}, wantHint: "the route's policy does not allow this user; see who you are signed in as: pomerium-cli status " + server},
		{name: "CONNECT 503", err: &tunnel.StatusError{Proxy: server, Authority: "db:1", StatusCode: 503}, hintHolds: "could not reach the service behind the route"},
		{name: "no portal", err: &portalclient.HTTPError{URL: server, StatusCode: 404}, hintHolds: "check the URL"},
		{name: "no such connection", err: fmt.Errorf("%q is neither the id nor the name of a saved connection: %w", "x", connections.ErrNotFound),
			wantHint: "see the saved connections: pomerium-cli connections list"},
		{name: "multi-line error", err: errors.New("first line\nsecond line"), wantLine: "first line", wantHint: ""},
		{name: "other", err: errors.New("boom"), wantLine: "boom", wantHint: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, hint := Explain(tt.err, server)
			if !strings.Contains(line, tt.wantLine) || strings.Contains(line, "\n") {
				t.Errorf("line = %q; want one line holding %q", line, tt.wantLine)
			}
			if tt.hintHolds != "" {
				if !strings.Contains(hint, tt.hintHolds) {
					t.Errorf("hint = %q; want it to hold %q", hint, tt.hintHolds)
				}
			} else if hint != tt.wantHint {
				t.Errorf("hint = %q; want %q", hint, tt.wantHint)
			}
		})
	}
	if l, h := Explain(nil, server); l != "" || h != "" {
		t.Errorf("Explain(nil) = %q, %q; want nothing", l, h)
	}
}

// A 403 body is the server's: whatever it holds, the line and hint are
// escaped and the quoted words bounded.
func TestExplainHostileDenial(t *testing.T) {
	for _, s := range termtest.Samples {
		err := &tunnel.StatusError{Proxy: "https://p", Authority: "db:1", StatusCode: 403,
			Body: "why: " + s + strings.Repeat("x", 500) + "\nwhat to do: " + s}
		line, hint := Explain(err, "")
		if cerr := termtest.Check(line+"\n"+hint, false); cerr != nil {
			t.Errorf("body %q: %v", s, cerr)
		}
		if len(hint) > 1200 {
			t.Errorf("hint is %d bytes; want the server's words clipped", len(hint))
		}
	}
}
