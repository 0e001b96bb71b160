package connections

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
)

// PortalImport is what the user chose for an import from a routes portal.
type PortalImport struct {
	// PortalURL is the portal the routes came from ("https://host[:port]";
	// a path is ignored). Connections remember it to be matched next time.
	PortalURL string
	// Routes are the portal's routes as fetched; tcp and udp routes are used.
	Routes []portalclient.Route
	// Selected holds the route ids to import; nil selects every tcp route.
	// Unselected routes are neither added nor updated, and since the
	// portal still lists them their connections are not removed.
	Selected map[string]bool
	// Tags are added to every imported connection (merged with the
	// user's own tags on re-import).
	Tags []string
	// TLS is what the imported connections use to reach the proxy.
	TLS tlsconfig.Options
}

// Change is one connection before and after an update.
type Change struct {
	Old, New Connection
}

// Plan is what an import would do, for a preview and for ApplyImport.
type Plan struct {
	PortalURL string       // normalised
	Add       []Connection // new connections (ids assigned)
	Update    []Change     // connections from this portal whose route changed
	Unchanged []Connection // connections from this portal already up to date
	Remove    []Connection // connections whose route the portal no longer lists
	Skipped   []Skipped    // tcp routes that cannot be saved as connections
}

// Skipped is a route left out of the plan and why.
type Skipped struct {
	Route portalclient.Route
	Err   error
}

// Empty reports whether applying p would change nothing (removals aside).
func (p Plan) Empty() bool { return len(p.Add) == 0 && len(p.Update) == 0 }

// NormalizePortalURL reduces a portal URL to scheme://host[:port] with the
// default port dropped and the host lower-cased, the key that ties
// imported connections to their portal. A bare host means https.
func NormalizePortalURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("portal URL is empty: want https://host[:port]")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("portal URL %q: %w", raw, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "https" && scheme != "http") || u.Hostname() == "" {
		return "", fmt.Errorf("portal URL %q: want https://host[:port]", raw)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}

// samePortal compares two portal URLs by their normalised form.
func samePortal(a, norm string) bool {
	n, err := NormalizePortalURL(a)
	return err == nil && n == norm
}

// PlanImport works out what importing imp into existing would do. New tcp
// and udp routes are added (a host-form route with the portal as its
// Pomerium URL, since its host only names the route); connections already imported from the same portal get
// the route's name and destination, the import's TLS options and tags
// (merged with theirs), and keep the user's listen address, Pomerium URL
// and start-at-launch choice; connections whose route is gone are listed
// for removal. Connections from another portal, or made by hand, are never
// touched.
func PlanImport(existing []Connection, imp PortalImport) (Plan, error) {
	portal, err := NormalizePortalURL(imp.PortalURL)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{PortalURL: portal}
	tags := NormalizeTags(imp.Tags)

	byRoute := map[string]Connection{}
	for _, c := range existing {
		if c.Source != nil && samePortal(c.Source.PortalURL, portal) {
			byRoute[c.Source.RouteID] = c
		}
	}
	listed := map[string]bool{}
	for _, r := range imp.Routes {
		if (r.Type != "tcp" && r.Type != "udp") || r.ID == "" {
			continue
		}
		proto := ProtocolTCP
		if r.Type == "udp" {
			proto = ProtocolUDP
		}
		// A host-form route names no proxy: its host is only a routing key,
		// so the tunnel must dial the proxy whose portal listed it.
		pomeriumURL := ""
		if HostForm(r.From) {
			pomeriumURL = portal
		}
		listed[r.ID] = true
		if imp.Selected != nil && !imp.Selected[r.ID] {
			continue
		}
		name := strings.TrimSpace(r.Name)
		if name == "" {
			name = r.ID
		}
		old, ok := byRoute[r.ID]
		if !ok {
			id, err := NewID()
			if err != nil {
				return Plan{}, err
			}
			c, err := Normalize(Connection{
				ID: id, Name: name, Destination: r.From, Protocol: proto, PomeriumURL: pomeriumURL, Tags: tags, TLS: imp.TLS,
				Source: &Source{PortalURL: portal, RouteID: r.ID},
			})
			if err != nil {
				plan.Skipped = append(plan.Skipped, Skipped{Route: r, Err: err})
				continue
			}
			plan.Add = append(plan.Add, c)
			continue
		}
		next := old
		next.Tags = slices.Clone(old.Tags)
		next.Name, next.Destination, next.Protocol, next.TLS = name, r.From, proto, imp.TLS
		if next.PomeriumURL == "" {
			next.PomeriumURL = pomeriumURL // the user's own choice stays
		}
		next.Tags = NormalizeTags(append(next.Tags, tags...))
		next.Source = &Source{PortalURL: portal, RouteID: r.ID}
		next, err := Normalize(next)
		if err != nil {
			// Keep the saved connection as it is rather than break it.
			plan.Skipped = append(plan.Skipped, Skipped{Route: r, Err: err})
			continue
		}
		if reflect.DeepEqual(mustNormalize(old), next) {
			plan.Unchanged = append(plan.Unchanged, old)
		} else {
			plan.Update = append(plan.Update, Change{Old: old, New: next})
		}
	}
	for _, c := range existing {
		if c.Source != nil && samePortal(c.Source.PortalURL, portal) && !listed[c.Source.RouteID] {
			plan.Remove = append(plan.Remove, c)
		}
	}
	sortConnections(plan.Add)
	sortConnections(plan.Unchanged)
	sortConnections(plan.Remove)
	slices.SortStableFunc(plan.Update, func(a, b Change) int { return compareConnections(a.New, b.New) })
	return plan, nil
}

// mustNormalize tidies c for comparison, ignoring validation problems of
// an old hand-edited entry.
func mustNormalize(c Connection) Connection {
	n, _ := Normalize(c)
	return n
}

// ApplyImport saves plan in one atomic write: adds, updates (by id) and,
// only when confirmRemove is set, removals. An updated or removed
// connection that was deleted meanwhile is skipped.
func ApplyImport(s *Store, plan Plan, confirmRemove bool) error {
	return s.Modify(func(list []Connection) ([]Connection, error) {
		index := map[string]int{}
		for i, c := range list {
			index[c.ID] = i
		}
		for _, ch := range plan.Update {
			if i, ok := index[ch.Old.ID]; ok {
				list[i] = ch.New
			}
		}
		for _, c := range plan.Add {
			if _, ok := index[c.ID]; ok {
				continue // applied twice
			}
			list = append(list, c)
		}
		if confirmRemove {
			gone := map[string]bool{}
			for _, c := range plan.Remove {
				gone[c.ID] = true
			}
			list = slices.DeleteFunc(list, func(c Connection) bool { return gone[c.ID] })
		}
		return list, nil
	})
}
