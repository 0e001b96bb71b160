// Package portal builds the routes portal: the JSON of
// /.pomerium/api/v1/routes (exact shape, stable ids, derived unique names,
// connect_command rules of shared/PROTOCOL.md) and the HTML page of
// /.pomerium/routes, listing only routes whose policy could allow the user.
//
//	entries := portal.Entries(cfg.Routes, identity) // nil identity: public routes only
//	w.Header().Set("Content-Type", "application/json")
//	_ = portal.WriteJSON(w, entries)
package portal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/policy"
)

// Entry is one route in the portal JSON.
type Entry struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	From           string `json:"from"`
	Description    string `json:"description"`
	ConnectCommand string `json:"connect_command,omitempty"`
	LogoURL        string `json:"logo_url"`
}

// Entries lists the routes id could be allowed (nil id: only public ones).
func Entries(routes []config.Route, id *policy.Identity) []Entry {
	// Names are derived over every route, not only the visible ones, so a
	// route keeps its name whoever is looking.
	all := AllEntries(routes)
	out := make([]Entry, 0, len(all))
	for i := range routes {
		if routes[i].EffectivePolicy().Evaluate(id) == policy.Allow {
			out = append(out, all[i])
		}
	}
	return out
}

// AllEntries is every route as a portal entry, in route order, ignoring
// policy (for logs and tests; never serve it).
func AllEntries(routes []config.Route) []Entry {
	names := Names(routes)
	out := make([]Entry, len(routes))
	for i := range routes {
		r := &routes[i]
		typ := routeType(r.From)
		e := Entry{
			ID:          RouteID(r),
			Name:        names[i],
			Type:        typ,
			From:        r.From,
			Description: r.Description,
			LogoURL:     r.LogoURL,
		}
		if typ != "http" {
			e.ConnectCommand = connectCommand(r, typ)
		}
		out[i] = e
	}
	return out
}

// routeType is tcp for tcp+..., udp for udp+..., else http.
func routeType(from string) string {
	scheme, _, _ := strings.Cut(from, "://")
	switch {
	case strings.HasPrefix(scheme, "tcp+"):
		return "tcp"
	case strings.HasPrefix(scheme, "udp+"):
		return "udp"
	}
	return "http"
}

// connectCommand is `pomerium-cli tcp host:port` in the host form and
// `pomerium-cli tcp <from>` in the path form (the client then dials the
// URL's host and asks for the path's authority).
func connectCommand(r *config.Route, typ string) string {
	if r.PathForm {
		return "pomerium-cli " + typ + " " + r.From
	}
	target := r.Authority
	if r.FromURL != nil {
		target = r.FromURL.Host
	}
	if target == "" {
		target = r.From
	}
	return "pomerium-cli " + typ + " " + target
}

// RouteID is a 16-hex-char hash of the route's from, matchers (prefix,
// path) and to (or IDKey in its place): stable across restarts while the
// definition is unchanged.
func RouteID(r *config.Route) string {
	h := sha256.New()
	field := func(k, v string) { fmt.Fprintf(h, "%s=%d:%s\n", k, len(v), v) }
	field("from", r.From)
	field("prefix", r.Prefix)
	field("path", r.Path)
	if r.IDKey != "" {
		field("to", r.IDKey)
		return hex.EncodeToString(h.Sum(nil))[:16]
	}
	for _, u := range r.To {
		s := ""
		if u.URL != nil {
			s = u.URL.String()
		}
		field("to", fmt.Sprintf("%s,%d", s, u.Weight))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// WriteJSON writes {"routes":[...]}.
func WriteJSON(w io.Writer, entries []Entry) error {
	if entries == nil {
		entries = []Entry{} // `[]`, never `null`
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep "&" in URLs readable; the page escapes for HTML itself
	if err := enc.Encode(struct {
		Routes []Entry `json:"routes"`
	}{entries}); err != nil {
		return fmt.Errorf("writing routes JSON: %w", err)
	}
	return nil
}

// displayHost is the host a route is named after: the path's host in the
// path form, else the from URL's host, without port, lower case.
func displayHost(r *config.Route) string {
	if r.PathForm && r.Authority != "" {
		if h, _, err := net.SplitHostPort(r.Authority); err == nil {
			return strings.ToLower(h)
		}
	}
	if r.FromURL != nil {
		return strings.ToLower(r.FromURL.Hostname())
	}
	_, rest, ok := strings.Cut(r.From, "://")
	if !ok {
		rest = r.From
	}
	host, _, _ := strings.Cut(rest, "/")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}
