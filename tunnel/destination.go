package tunnel

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

const destForms = "want host:port, tcp+https://host:port or tcp+https://proxy[:port]/host:port"

// ParseDestination accepts "host:port", "tcp+https://host:port" and
// "tcp+https://proxy[:port]/host:port". pomeriumURL, when not empty,
// overrides where to dial (--pomerium-url). Errors say which form is expected.
func ParseDestination(dest, pomeriumURL string) (Destination, error) {
	dest = strings.TrimSpace(dest)
	var d Destination
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
			if err := checkAuthority(p); err != nil {
				return d, fmt.Errorf("destination %q: %w; %s", dest, err, destForms)
			}
			if u.Port() != "" {
				if err := checkPort(u.Port()); err != nil {
					return d, fmt.Errorf("destination %q: proxy %w", dest, err)
				}
			}
			d.Proxy = &url.URL{Scheme: "https", Host: strings.ToLower(u.Host)}
			d.Authority = p
		} else {
			// Host form: the port is only a routing key; the proxy is on 443.
			if err := checkAuthority(u.Host); err != nil {
				return d, fmt.Errorf("destination %q: %w; %s", dest, err, destForms)
			}
			d.Authority = u.Host
			d.Proxy = &url.URL{Scheme: "https", Host: net.JoinHostPort(strings.ToLower(u.Hostname()), "443")}
		}
	default:
		if err := checkAuthority(dest); err != nil {
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
	if u.Port() != "" {
		if err := checkPort(u.Port()); err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
	}
	return &url.URL{Scheme: "https", Host: strings.ToLower(u.Host)}, nil
}

func checkAuthority(hp string) error {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return fmt.Errorf("%q is not host:port", hp)
	}
	if h == "" || strings.ContainsAny(h, "/ @?#") {
		return fmt.Errorf("%q has no valid host", hp)
	}
	return checkPort(p)
}

func checkPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	return nil
}
