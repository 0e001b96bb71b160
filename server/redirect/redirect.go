// Package redirect decides where a browser may be sent after sign-in, so
// that neither the session cookie's "return" path nor the login API's
// pomerium_redirect_uri becomes an open redirect.
//
// Both checks judge the final value, the exact string that goes into the
// Location header, and not the input: cleaning a path can turn a harmless
// looking value into one a browser follows off-site ("/./\evil.example"
// becomes "/\evil.example", which browsers read as "//evil.example").
//
//	loc, err := redirect.ReturnPath(r.URL.Query().Get("return"), r.Host)
//	if err != nil { ... 400 ... }
//	w.Header().Set("Location", loc) // use loc verbatim
//
//	u, err := redirect.Programmatic(v, cfg.ProgrammaticRedirectDomainWhitelist)
package redirect

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// MaxLen bounds a redirect value; longer ones are refused, not cut.
const MaxLen = 4096

// ErrReturn is wrapped by every ReturnPath refusal.
var ErrReturn = errors.New("return must be a path on this host, like /.pomerium/routes")

// ReturnPath turns v, where a browser asked to go after signing in, into
// the Location to send it to: a cleaned, percent-encoded path (and query)
// on this host. host is the request's Host; an absolute https URL naming
// exactly it is accepted and reduced to its path. Anything that could leave
// the host is refused: other hosts, scheme-relative URLs, backslashes,
// whitespace and control characters anywhere, non-ASCII in the query.
func ReturnPath(v, host string) (string, error) {
	if len(v) > MaxLen {
		return "", fmt.Errorf("%w (got %d bytes, the limit is %d)", ErrReturn, len(v), MaxLen)
	}
	// Browsers drop tabs and newlines and trim spaces and controls, and
	// read "\" as "/": refuse them before parsing so no spelling survives.
	if i := strings.IndexFunc(v, unsafeRune); i >= 0 {
		return "", fmt.Errorf("%w (character %q at byte %d is not allowed)", ErrReturn, v[i:i+1], i)
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", fmt.Errorf("%w (%q does not parse)", ErrReturn, v)
	}
	if u.Scheme != "" || u.Host != "" || u.User != nil {
		if !strings.EqualFold(u.Scheme, "https") || u.User != nil || host == "" || !strings.EqualFold(u.Host, host) {
			return "", fmt.Errorf("%w (an absolute URL may only name this host)", ErrReturn)
		}
	}
	if u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("%w (it must start with /)", ErrReturn)
	}
	final := (&url.URL{Path: cleanPath(u.Path), RawQuery: u.RawQuery}).RequestURI()
	if len(final) > MaxLen {
		return "", fmt.Errorf("%w (%d bytes once escaped, the limit is %d)", ErrReturn, len(final), MaxLen)
	}
	if err := CheckLocalLocation(final); err != nil {
		return "", err
	}
	return final, nil
}

// CheckLocalLocation reports whether loc, as it will be sent in a
// Location header, stays on this host in every browser: printable ASCII
// only, one leading slash, no backslash. ReturnPath ends with it; a
// handler that rebuilds a Location from stored state checks it again.
func CheckLocalLocation(loc string) error {
	for i := 0; i < len(loc); i++ {
		if c := loc[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return fmt.Errorf("%w (the final location has %q at byte %d)", ErrReturn, loc[i:i+1], i)
		}
	}
	if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
		return fmt.Errorf("%w (the final location %q is not a path)", ErrReturn, loc)
	}
	return nil
}

// cleanPath is path.Clean keeping a trailing slash, as http.Redirect
// cleans a path; p starts with "/", so the result never starts with "//".
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// unsafeRune is whitespace, a control character (C0, DEL, C1), a
// backslash, or a Unicode format or separator character a browser or a
// human could misread.
func unsafeRune(r rune) bool {
	switch {
	case r <= ' ', r == 0x7f, r == '\\':
		return true
	case r >= 0x80 && r <= 0x9f, r == 0xa0, r == 0xad, r == 0xfffd:
		return true
	case r >= 0x2000 && r <= 0x200f, r >= 0x2028 && r <= 0x202f, r >= 0x2060 && r <= 0x206f, r == 0x3000, r == 0xfeff:
		return true
	}
	return false
}

// Programmatic checks the login API's pomerium_redirect_uri: an absolute
// http or https URL to localhost, a loopback IP, or exactly one of
// allowedHosts, which is where the browser takes the user's token. The
// returned URL is the one to use (its String is what was checked).
func Programmatic(v string, allowedHosts []string) (*url.URL, error) {
	bad := func(why string) error {
		return fmt.Errorf("pomerium_redirect_uri must be an absolute http or https URL like http://127.0.0.1:PORT/ (%s)", why)
	}
	if len(v) > MaxLen {
		return nil, bad(fmt.Sprintf("got %d bytes, the limit is %d", len(v), MaxLen))
	}
	if i := strings.IndexFunc(v, unsafeRune); i >= 0 {
		return nil, bad(fmt.Sprintf("character %q at byte %d is not allowed", v[i:i+1], i))
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, bad(fmt.Sprintf("%q is not one", v))
	}
	// The URL the browser will be sent to is u.String(): judge that one,
	// as a browser would parse it, not v.
	final, err := url.Parse(u.String())
	if err != nil || !strings.EqualFold(final.Host, u.Host) || final.User != nil {
		return nil, bad(fmt.Sprintf("%q does not survive re-encoding", v))
	}
	host := final.Hostname()
	if allowedHost(host, allowedHosts) {
		return u, nil
	}
	return nil, fmt.Errorf("pomerium_redirect_uri host %q is not allowed: use localhost or a loopback IP, or add it to programmatic_redirect_domain_whitelist", host)
}

func allowedHost(host string, allowed []string) bool {
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, h := range allowed {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}
