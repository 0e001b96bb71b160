package routing

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/portal"
)

// Table is one immutable compiled route table.
type Table struct {
	routes []config.Route // as given, for the portal
	all    []*Route       // index for index with routes
	http   []*Route       // match order (regex_priority_order applied)
	tcp    map[string]*Route
	udp    map[string]*Route
}

// Route is a route compiled for serving: its display name (the portal's,
// also the metrics label), its effective policy and its upstream pool.
type Route struct {
	*config.Route
	Name   string
	Origin string // the source it came from
	Policy policy.Policy
	// Pool picks upstreams and holds their transports and health; it is
	// carried over to the next table when the route's upstream settings
	// did not change, keeping connections and health state.
	Pool *Pool
}

// Routes are the table's routes in source order (for the portal).
func (t *Table) Routes() []config.Route { return t.routes }

// All are the compiled routes in source order.
func (t *Table) All() []*Route { return t.all }

// MatchHTTP finds the https route for r's host and path. A from URL
// without a port matches that host on any port (the listen port need not
// be 443); with a port it must match exactly.
func (t *Table) MatchHTTP(r *http.Request) *Route {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	path := r.URL.Path
	for _, rt := range t.http {
		if !strings.EqualFold(rt.FromURL.Hostname(), host) {
			continue
		}
		if p := rt.FromURL.Port(); p != "" && p != port {
			continue
		}
		if rt.MatchesPath(path) {
			return rt
		}
	}
	return nil
}

// MatchTCP finds the tcp route whose authority is exactly authority.
func (t *Table) MatchTCP(authority string) *Route { return t.tcp[strings.ToLower(authority)] }

// MatchUDP finds the udp route whose authority is exactly authority.
func (t *Table) MatchUDP(authority string) *Route { return t.udp[strings.ToLower(authority)] }

// compile builds a table; pools of routes whose upstream settings are
// unchanged from old are reused.
func compile(routes []config.Route, origin []string, old *Table, log *slog.Logger) (*Table, error) {
	if err := config.CheckRoutes(routes); err != nil {
		return nil, err
	}
	oldPools := map[string]*Pool{}
	if old != nil {
		for _, rt := range old.all {
			if rt.Pool != nil {
				oldPools[rt.Pool.key] = rt.Pool
			}
		}
	}
	t := &Table{routes: routes, tcp: map[string]*Route{}, udp: map[string]*Route{}}
	names := portal.Names(routes)
	used := map[string]bool{}
	for i := range routes {
		cr := &routes[i]
		rt := &Route{Route: cr, Name: names[i], Origin: origin[i], Policy: cr.EffectivePolicy()}
		key := poolKey(cr)
		if p, ok := oldPools[key]; ok && !used[key] {
			rt.Pool = p
		} else {
			p, err := newPool(cr, log.With("route", names[i]))
			if err != nil {
				t.retire(old)
				return nil, fmt.Errorf("route %s (from %s): %w", names[i], cr.From, err)
			}
			rt.Pool = p
		}
		used[key] = true
		t.all = append(t.all, rt)
		switch cr.Type {
		case "http":
			t.http = append(t.http, rt)
		case "tcp":
			t.tcp[strings.ToLower(cr.Authority)] = rt
		case "udp":
			t.udp[strings.ToLower(cr.Authority)] = rt
		}
	}
	// Pomerium sorts regex routes by regex_priority_order (higher first);
	// everything else keeps config order. The sort is stable.
	slices.SortStableFunc(t.http, func(a, b *Route) int {
		return cmp.Compare(b.RegexPriorityOrder, a.RegexPriorityOrder)
	})
	return t, nil
}

// retire stops the background work of t's pools that next does not
// reuse (next nil: all of them).
func (t *Table) retire(next *Table) {
	if t == nil {
		return
	}
	keep := map[*Pool]bool{}
	if next != nil {
		for _, rt := range next.all {
			keep[rt.Pool] = true
		}
	}
	for _, rt := range t.all {
		if rt.Pool != nil && !keep[rt.Pool] {
			rt.Pool.Close()
		}
	}
}

// WantsClientCert reports whether a route on host asks for a client
// certificate (tls_downstream_client_ca or downstream_mtls).
func (t *Table) WantsClientCert(host string) bool {
	for _, rt := range t.all {
		if rt.DownstreamClientCAs != nil && strings.EqualFold(rt.FromURL.Hostname(), host) {
			return true
		}
	}
	return false
}
