package gui

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// plainError says what went wrong in plain words and how to fix it, as
// pomerium-cli's hints do but naming the app's own settings. raw is the
// full Go error chain, for the detail pane's disclosure. Unknown errors
// keep their own text.
func plainError(err error) (summary, hint string) {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	var se *tunnel.StatusError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	msg := strings.ToLower(err.Error())
	switch {
	case errors.As(err, &unknownCA) || strings.Contains(msg, "certificate signed by unknown authority"):
		return "the server's certificate is not trusted", "add its CA: Edit → Advanced → CA file"
	case errors.As(err, &hostErr):
		return "the server's certificate is for another host", "check the proxy address in the destination"
	case errors.As(err, &certErr):
		return "the server's certificate did not verify", "add its CA (Edit → Advanced → CA file), or check the server's certificate"
	case portalclient.IsUnauthorized(err) || errors.As(err, &se) && se.StatusCode == 401:
		return "the proxy wants you to sign in again", "switch the connection off and on to sign in"
	case errors.As(err, &se) && se.StatusCode == 403:
		return "the proxy's policy does not allow you this route", "ask the proxy's admin for access"
	case errors.As(err, &se) && se.StatusCode == 404:
		return "the proxy has no such route", "check the destination, or import the routes again from the portal"
	case errors.As(err, &se) && (se.StatusCode == 502 || se.StatusCode == 503 || se.StatusCode == 504):
		return "the proxy could not reach the service behind the route", "the service may be down; try again later"
	case errors.Is(err, syscall.EADDRINUSE):
		return "the local address is already in use", "pick another local address, or leave it empty for a free port"
	case errors.Is(err, syscall.ECONNREFUSED):
		where := "the proxy"
		if errors.As(err, &opErr) && opErr.Addr != nil {
			where = opErr.Addr.String()
		}
		return "nothing answers at " + where, "is the proxy running, and is the address right?"
	case errors.As(err, &dnsErr):
		return "cannot find the host " + dnsErr.Name, "check the proxy address in the destination"
	case isTimeout(err):
		return "the proxy took too long to answer", "check your network, then try again"
	}
	return err.Error(), ""
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// errorText is the status line for err: the plain summary.
func errorText(err error) string {
	s, _ := plainError(err)
	return "error: " + s
}

// errorDetail is the detail pane's text for err: summary, hint, and the
// raw chain behind "Details:".
func errorDetail(err error) string {
	s, h := plainError(err)
	out := "error: " + s
	if h != "" {
		out += "\nFix: " + h
	}
	if raw := err.Error(); raw != s {
		out += "\nDetails: " + raw
	}
	return out
}

// notifyText is a notification's body for err: summary and hint.
func notifyText(err error) string {
	s, h := plainError(err)
	if h != "" {
		return s + ": " + h
	}
	return s
}
