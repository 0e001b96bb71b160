package policy

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

// Request is what the request criteria look at. A nil *Request (the
// portal deciding which routes to list) makes them match, except date,
// day_of_week and time_of_day, which use the current time.
type Request struct {
	Method   string
	Path     string
	SourceIP net.IP
	// ClientCert is the verified client certificate (nil: none, or the
	// route does not ask for one with tls_downstream_client_ca).
	ClientCert    *x509.Certificate
	CORSPreflight bool
	Time          time.Time // zero: now
}

func (r *Request) now() time.Time {
	if r == nil || r.Time.IsZero() {
		return time.Now()
	}
	return r.Time
}

var days = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// parseRequestCriterion parses the criteria that look at the request
// rather than the user; ok is false for any other name.
func parseRequestCriterion(name string, v *yaml.Node) (c criterion, ok bool, err error) {
	c = criterion{name: name}
	switch name {
	case "http_method", "http_path":
		m, err := parseStringMatcher(v)
		if err != nil {
			return c, true, fmt.Errorf("%s: %w", name, err)
		}
		if name == "http_method" {
			c.matchReq = func(r *Request) bool { return m(strings.ToUpper(r.Method)) }
		} else {
			c.matchReq = func(r *Request) bool { return m(r.Path) }
		}
	case "source_ip":
		nets, err := parseIPNets(v)
		if err != nil {
			return c, true, fmt.Errorf("source_ip: %w", err)
		}
		c.matchReq = func(r *Request) bool {
			for _, n := range nets {
				if r.SourceIP != nil && n.Contains(r.SourceIP) {
					return true
				}
			}
			return false
		}
	case "cors_preflight", "pomerium_routes":
		if err := wantTrue(name, v); err != nil {
			return c, true, err
		}
		if name == "cors_preflight" {
			c.matchReq = func(r *Request) bool { return r.CORSPreflight }
		} else {
			c.matchReq = func(r *Request) bool { return r.Path == "/.pomerium" || strings.HasPrefix(r.Path, "/.pomerium/") }
		}
	case "client_certificate":
		m, err := parseCertMatcher(v)
		if err != nil {
			return c, true, fmt.Errorf("client_certificate: %w", err)
		}
		c.matchReq = func(r *Request) bool { return r.ClientCert != nil && m(r.ClientCert) }
	case "date":
		m, err := parseDate(v)
		if err != nil {
			return c, true, fmt.Errorf("date: %w", err)
		}
		c.matchTime = m
	case "day_of_week":
		m, err := parseDayOfWeek(v)
		if err != nil {
			return c, true, fmt.Errorf("day_of_week: %w", err)
		}
		c.matchTime = m
	case "time_of_day":
		m, err := parseTimeOfDay(v)
		if err != nil {
			return c, true, fmt.Errorf("time_of_day: %w", err)
		}
		c.matchTime = m
	default:
		return c, false, nil
	}
	return c, true, nil
}

func parseIPNets(v *yaml.Node) ([]*net.IPNet, error) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []*net.IPNet
	for i, it := range items {
		s, err := scalar(yamlnode.Resolve(it))
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if !strings.Contains(s, "/") {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("want an IP address or CIDR (10.0.0.0/8), got %q", s)
			}
			bits := 32
			if ip.To4() == nil {
				bits = 128
			}
			s = fmt.Sprintf("%s/%d", ip, bits)
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("want an IP address or CIDR (10.0.0.0/8), got %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseCertMatcher: fingerprint (SHA-256 hex of the certificate, one or a
// list), spki_hash (base64 SHA-256 of the public key info), san_email
// and san_dns (string matchers on any of the certificate's names). All
// given must hold.
func parseCertMatcher(v *yaml.Node) (func(*x509.Certificate) bool, error) {
	if v.Kind != yaml.MappingNode {
		return nil, errors.New("want a map of fingerprint, spki_hash, san_email or san_dns")
	}
	var ms []func(*x509.Certificate) bool
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, arg := v.Content[i].Value, yamlnode.Resolve(v.Content[i+1])
		switch k {
		case "fingerprint", "spki_hash":
			list := []string{}
			if arg.Kind == yaml.SequenceNode {
				l, err := scalarList(arg)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				list = l
			} else {
				s, err := scalar(arg)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				list = []string{s}
			}
			want := map[string]bool{}
			for _, s := range list {
				if k == "fingerprint" {
					s = strings.ToLower(strings.ReplaceAll(s, ":", ""))
					if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size {
						return nil, fmt.Errorf("fingerprint: want the SHA-256 of the certificate in hex, got %q", s)
					}
				} else if b, err := base64.StdEncoding.DecodeString(s); err != nil || len(b) != sha256.Size {
					return nil, fmt.Errorf("spki_hash: want base64 of a SHA-256, got %q", s)
				}
				want[s] = true
			}
			if k == "fingerprint" {
				ms = append(ms, func(c *x509.Certificate) bool {
					sum := sha256.Sum256(c.Raw)
					return want[hex.EncodeToString(sum[:])]
				})
			} else {
				ms = append(ms, func(c *x509.Certificate) bool {
					sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
					return want[base64.StdEncoding.EncodeToString(sum[:])]
				})
			}
		case "san_email", "san_dns":
			m, err := parseStringMatcher(arg)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			get := func(c *x509.Certificate) []string { return c.EmailAddresses }
			if k == "san_dns" {
				get = func(c *x509.Certificate) []string { return c.DNSNames }
			}
			ms = append(ms, func(c *x509.Certificate) bool {
				for _, s := range get(c) {
					if m(s) {
						return true
					}
				}
				return false
			})
		default:
			return nil, fmt.Errorf("unknown certificate matcher %q; allowed: fingerprint, spki_hash, san_email, san_dns", k)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("empty matcher map; want fingerprint, spki_hash, san_email or san_dns")
	}
	return func(c *x509.Certificate) bool {
		for _, m := range ms {
			if !m(c) {
				return false
			}
		}
		return true
	}, nil
}

// parseDate: {after: RFC3339, before: RFC3339}.
func parseDate(v *yaml.Node) (func(time.Time) bool, error) {
	if v.Kind != yaml.MappingNode {
		return nil, errors.New(`want {after: "2026-01-02T15:04:05Z"} and/or {before: ...}`)
	}
	var after, before time.Time
	err := scalarPairs(v, func(k, s string) error {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("%s: want an RFC 3339 time like 2026-01-02T15:04:05Z, got %q", k, s)
		}
		switch k {
		case "after":
			after = t
		case "before":
			before = t
		default:
			return fmt.Errorf("unknown date matcher %q; allowed: after, before", k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func(now time.Time) bool {
		return (after.IsZero() || now.After(after)) && (before.IsZero() || now.Before(before))
	}, nil
}

// parseDayOfWeek: "mon", "mon-fri", "sat,sun", or {days: ..., timezone:
// Europe/Paris} (UTC by default). Ranges may wrap (fri-mon).
func parseDayOfWeek(v *yaml.Node) (func(time.Time) bool, error) {
	spec, loc := "", time.UTC
	switch v.Kind {
	case yaml.ScalarNode:
		spec = v.Value
	case yaml.MappingNode:
		err := scalarPairs(v, func(k, s string) error {
			switch k {
			case "days", "is":
				spec = s
			case "timezone":
				l, err := time.LoadLocation(s)
				if err != nil {
					return fmt.Errorf("timezone: unknown zone %q (use an IANA name like Europe/Paris)", s)
				}
				loc = l
			default:
				return fmt.Errorf("unknown key %q; allowed: days, timezone", k)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, errors.New(`want days like "mon-fri" or {days: "mon-fri", timezone: Europe/Paris}`)
	}
	var set [7]bool
	any := false
	for _, part := range strings.Split(spec, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		from, to, isRange := strings.Cut(part, "-")
		a, ok1 := days[strings.TrimSpace(from)]
		b := a
		ok2 := true
		if isRange {
			b, ok2 = days[strings.TrimSpace(to)]
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("want days like mon, mon-fri or sat,sun, got %q", spec)
		}
		for d := a; ; d = (d + 1) % 7 {
			set[d], any = true, true
			if d == b {
				break
			}
		}
	}
	if !any {
		return nil, errors.New("no days given")
	}
	return func(now time.Time) bool { return set[now.In(loc).Weekday()] }, nil
}

// parseTimeOfDay: {after: "9:00", before: "17:30", timezone: TZ}; an
// after later than before spans midnight.
func parseTimeOfDay(v *yaml.Node) (func(time.Time) bool, error) {
	if v.Kind != yaml.MappingNode {
		return nil, errors.New(`want {after: "9:00", before: "17:00", timezone: Europe/Paris}`)
	}
	after, before := -1, -1
	loc := time.UTC
	err := scalarPairs(v, func(k, s string) error {
		switch k {
		case "after", "before":
			m, err := clockSeconds(s)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if k == "after" {
				after = m
			} else {
				before = m
			}
		case "timezone":
			l, err := time.LoadLocation(s)
			if err != nil {
				return fmt.Errorf("timezone: unknown zone %q (use an IANA name like America/New_York)", s)
			}
			loc = l
		default:
			return fmt.Errorf("unknown key %q; allowed: after, before, timezone", k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if after < 0 && before < 0 {
		return nil, errors.New("set after, before or both")
	}
	return func(now time.Time) bool {
		t := now.In(loc)
		m := t.Hour()*3600 + t.Minute()*60 + t.Second()
		switch {
		case after >= 0 && before >= 0 && after > before:
			return m >= after || m < before
		case after >= 0 && m < after:
			return false
		case before >= 0 && m >= before:
			return false
		}
		return true
	}, nil
}

// clockSeconds parses 15:04, 15:04:05, 3:04pm or 3:04 PM to seconds
// since midnight: "before: 23:59:59" must allow 23:59:30.
func clockSeconds(s string) (int, error) {
	for _, layout := range []string{"15:04", "15:04:05", "3:04pm", "3:04 pm", "3pm", "3 pm"} {
		if t, err := time.Parse(layout, strings.ToLower(strings.TrimSpace(s))); err == nil {
			return t.Hour()*3600 + t.Minute()*60 + t.Second(), nil
		}
	}
	return 0, fmt.Errorf("want a time like 09:00, 17:30 or 5:30 PM, got %q", s)
}
