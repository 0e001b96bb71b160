package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

const destForms = "want host:port, tcp+https://host:port or tcp+https://proxy[:port]/host:port"

// ParseDestination accepts "host:port", "tcp+https://host:port" and
// "tcp+https://proxy[:port]/host:port". pomeriumURL, when not empty,
// overrides where to dial (--pomerium-url). Errors say which form is expected.
func ParseDestination(dest, pomeriumURL string) (Destination, error) {
	var d Destination
	// Spaces around a pasted value are forgiven; a control character
	// anywhere (even a trailing line break) is refused, never trimmed.
	if i := strings.IndexFunc(dest, func(r rune) bool { return r != ' ' && badAuthorityRune(r) }); i >= 0 {
		return d, fmt.Errorf("destination %q has a control character at byte %d; %s", dest, i, destForms)
	}
	dest = strings.Trim(dest, " ")
	switch {
	case dest == "":
		return d, fmt.Errorf("empty destination: %s", destForms)
	case strings.Contains(dest, "://"):
		u, err := url.Parse(dest)
		if err != nil {
			return d, fmt.Errorf("destination %q: %s", dest, destForms)
		}
		if !strings.EqualFold(u.Scheme, "tcp+https") {
			return d, fmt.Errorf("destination %q: scheme %q is not tcp+https; %s", dest, u.Scheme, destForms)
		}
		if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return d, fmt.Errorf("destination %q: %s", dest, destForms)
		}
		if p := strings.Trim(u.Path, "/"); p != "" {
			// Path form: dial the URL's host, ask for the path's authority.
			if err := ValidateAuthority(p); err != nil {
				return d, fmt.Errorf("destination %q: %w; %s", dest, err, destForms)
			}
			if err := validateURLHost(u.Host); err != nil {
				return d, fmt.Errorf("destination %q: proxy %w", dest, err)
			}
			d.Proxy = &url.URL{Scheme: "https", Host: strings.ToLower(u.Host)}
			d.Authority = p
		} else {
			// Host form: the port is only a routing key; the proxy is on 443.
			if err := ValidateAuthority(u.Host); err != nil {
				return d, fmt.Errorf("destination %q: %w; %s", dest, err, destForms)
			}
			d.Authority = u.Host
			d.Proxy = &url.URL{Scheme: "https", Host: net.JoinHostPort(strings.ToLower(u.Hostname()), "443")}
		}
	default:
		if err := ValidateAuthority(dest); err != nil {
			return d, fmt.Errorf("destination %q: %w; %s", dest, err, destForms)
		}
		h, _, _ := net.SplitHostPort(dest)
		d.Authority = dest
		d.Proxy = &url.URL{Scheme: "https", Host: net.JoinHostPort(strings.ToLower(h), "443")}
	}
	if pomeriumURL != "" {
		p, err := ParseProxyURL(pomeriumURL)
		if err != nil {
			return Destination{}, fmt.Errorf("--pomerium-url: %w", err)
		}
		d.Proxy = p
	}
	return d, nil
}

// ParseProxyURL checks an https proxy URL (--pomerium-url) and keeps only
// its scheme and host.
func ParseProxyURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a URL; want https://proxy[:port]", s)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return nil, fmt.Errorf("%q: scheme must be https (want https://proxy[:port])", s)
	}
	if err := validateURLHost(u.Host); err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	return &url.URL{Scheme: "https", Host: strings.ToLower(u.Host)}, nil
}

// ValidateAuthority is the one destination validator: hostport must be
// host:port with an RFC 3986 host (a reg-name, an IPv4 address or an IPv6
// address in brackets) and a port from 1 to 65535. Control characters,
// spaces and anything else that could end a request line or a header are
// refused, so the CONNECT request line and Host header built from it stay
// one token. The CLI, saved connections, imports and the TUI all reach it
// through ParseDestination; the tunnel checks again before it writes.
func ValidateAuthority(hostport string) error {
	if i := strings.IndexFunc(hostport, badAuthorityRune); i >= 0 {
		return fmt.Errorf("%q has a control character or space at byte %d", hostport, i)
	}
	host, port, err := splitAuthority(hostport)
	if err != nil {
		return err
	}
	if err := ValidateHost(host); err != nil {
		return err
	}
	return checkPort(port)
}

// ValidateHost checks an RFC 3986 host: "[IPv6]", a dotted IPv4 address or
// a reg-name of letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = (names
// outside ASCII in their xn-- form; percent-encoding is refused because a
// proxy that decodes it could be handed a line break).
func ValidateHost(host string) error {
	switch {
	case host == "":
		return errors.New("the host is empty")
	case len(host) > 255:
		return fmt.Errorf("host %.40q... is longer than 255 bytes", host)
	case strings.HasPrefix(host, "["):
		if !strings.HasSuffix(host, "]") {
			return fmt.Errorf("host %q: an IPv6 address needs its closing bracket", host)
		}
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return fmt.Errorf("host %q is not an IPv6 address in brackets (like [2001:db8::1])", host)
		}
		return nil
	case strings.Contains(host, ":"):
		return fmt.Errorf("host %q: write an IPv6 address in brackets, like [%s]:PORT", host, host)
	}
	if strings.Trim(host, "0123456789.") == "" {
		if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
			return fmt.Errorf("host %q is not an IPv4 address", host)
		}
		return nil
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=", c) >= 0:
		case c >= 0x80:
			return fmt.Errorf("host %q is not ASCII: write an international name in its xn-- form", host)
		default:
			return fmt.Errorf("host %q may not contain %q", host, string(c))
		}
	}
	return nil
}

// badAuthorityRune is what may never appear in an authority, even quoted:
// C0, space, DEL, C1 and the line and bidi controls a terminal obeys.
func badAuthorityRune(r rune) bool {
	return r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == utf8.RuneError ||
		r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// splitAuthority splits host:port keeping an IPv6 host's brackets.
func splitAuthority(hp string) (host, port string, err error) {
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return "", "", fmt.Errorf("%q is not host:port: it has no port", hp)
	}
	host, port = hp[:i], hp[i+1:]
	if strings.HasPrefix(host, "[") != strings.HasSuffix(host, "]") {
		return "", "", fmt.Errorf("%q: an IPv6 host goes in brackets, like [::1]:7000", hp)
	}
	if port == "" {
		return "", "", fmt.Errorf("%q is not host:port: it has no port", hp)
	}
	return host, port, nil
}

// checkPort accepts 1 to 65535 in plain decimal digits (no sign, no space).
func checkPort(p string) error {
	if len(p) == 0 || len(p) > 5 || strings.Trim(p, "0123456789") != "" {
		return fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	n, _ := strconv.Atoi(p)
	if n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	return nil
}

// validateURLHost checks a URL's host[:port] (the proxy's).
func validateURLHost(hp string) error {
	if i := strings.IndexFunc(hp, badAuthorityRune); i >= 0 {
		return fmt.Errorf("%q has a control character or space at byte %d", hp, i)
	}
	if strings.HasSuffix(hp, "]") || !strings.Contains(hp, ":") {
		return ValidateHost(hp)
	}
	return ValidateAuthority(hp)
}

// requestTarget is the authority the CONNECT request line and Host header
// carry, checked once more: a Destination built by hand (or changed after
// ParseDestination) must not put a line break into the request.
func (d Destination) requestTarget() (string, error) {
	if err := ValidateAuthority(d.Authority); err != nil {
		return "", fmt.Errorf("refusing to send CONNECT: destination %w", err)
	}
	return d.Authority, nil
}

// checkHeaderToken refuses a token that could end the Authorization
// header: tokens come from a server, and only visible ASCII is sent.
func checkHeaderToken(tok string) error {
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] >= 0x7f {
			return fmt.Errorf("refusing to send CONNECT: the token has byte %#x at %d; sign in again", tok[i], i)
		}
	}
	return nil
}
