package connections

import (
	"github.com/porthole-dev/porthole/tunnel"

	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Field names used in FieldError, one per form field.
const (
	FieldName        = "name"
	FieldDestination = "destination"
	FieldListenAddr  = "listen_addr"
	FieldPomeriumURL = "pomerium_url"
	FieldTLS         = "tls"
	FieldProtocol    = "protocol"
)

// FieldError says which field of a Connection is wrong, so a form can show
// the message next to it. Error() reads "destination: ...".
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, a...)}
}

// Validate reports the first problem with c as a *FieldError (nil when c
// can be saved). It does not change c; Normalize also tidies it.
func Validate(c Connection) error {
	_, err := Normalize(c)
	return err
}

// Normalize trims c's text fields, sorts and de-duplicates its tags and
// checks it: a name, a destination the tunnel accepts, a listen address
// that is empty or host:port with a numeric port, an http(s) Pomerium URL.
func Normalize(c Connection) (Connection, error) {
	c.ID = strings.TrimSpace(c.ID)
	c.Name = strings.TrimSpace(c.Name)
	c.Destination = strings.TrimSpace(c.Destination)
	c.ListenAddr = strings.TrimSpace(c.ListenAddr)
	c.PomeriumURL = strings.TrimSpace(c.PomeriumURL)
	c.Tags = NormalizeTags(c.Tags)
	c.Desktop = c.Desktop.normalized()
	if c.Source != nil && *c.Source == (Source{}) {
		c.Source = nil
	}
	if c.Name == "" {
		return c, fieldErr(FieldName, "required: give the connection a name")
	}
	if c.Destination == "" {
		return c, fieldErr(FieldDestination, "required: host:port, tcp+https://host:port or tcp+https://proxy/host:port")
	}
	if err := checkPomeriumURL(c.PomeriumURL); err != nil {
		return c, &FieldError{Field: FieldPomeriumURL, Err: err}
	}
	proto, err := normalizeProtocol(c.Protocol)
	if err != nil {
		return c, &FieldError{Field: FieldProtocol, Err: err}
	}
	c.Protocol = proto
	if _, err := c.ParseDestination(); err != nil {
		return c, &FieldError{Field: FieldDestination, Err: err}
	}
	if err := checkListenAddr(c.ListenAddr); err != nil {
		return c, &FieldError{Field: FieldListenAddr, Err: err}
	}
	if (c.TLS.ClientCert != "" || c.TLS.ClientCertFile != "") != (c.TLS.ClientKey != "" || c.TLS.ClientKeyFile != "") {
		return c, fieldErr(FieldTLS, "a client certificate needs its key and a key needs its certificate")
	}
	if c.TLS.CAFile != "" && c.TLS.CACert != "" {
		return c, fieldErr(FieldTLS, "give a CA file or an inline CA certificate, not both")
	}
	return c, nil
}

// NormalizeTags trims, drops empty ones, de-duplicates and sorts. Tags are
// case-sensitive, as in Pomerium Desktop.
func NormalizeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func checkPomeriumURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q: want https://host[:port]", s)
	}
	return nil
}

func checkListenAddr(s string) error {
	if s == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q: want host:port such as 127.0.0.1:5432, or leave it empty for a free port", s)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil || strings.Trim(port, "0123456789") != "" {
		return fmt.Errorf("%q: the port must be a number from 0 to 65535", s)
	}
	if host == "" {
		return nil // every interface: allowed, and called out by imports
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if err := tunnel.ValidateHost(host); err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	return nil
}
