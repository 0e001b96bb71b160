package cmdutil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/portalclient"
)

// RouteCacheTTL is how long a fetched routes list answers route names
// without asking the server again. Completion reads the cache at any age.
const RouteCacheTTL = 5 * time.Minute

// routeCacheGrain is how soon after a fetch the same list fetched again
// leaves the cache (and its time) as it is.
const routeCacheGrain = time.Minute

// maxRouteCache bounds a cached routes list read back.
const maxRouteCache = 8 << 20

type routeCacheDoc struct {
	Server  string               `json:"server"`
	Fetched time.Time            `json:"fetched"`
	Routes  []portalclient.Route `json:"routes"`
}

func (f *Factory) routeCacheDir() (string, error) {
	if f.CacheDir != "" {
		return filepath.Join(f.CacheDir, "routes"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache dir: %w", err)
	}
	return filepath.Join(d, "pomerium-cli", "routes"), nil
}

// routeCacheName is u's host:port made a safe file name.
func routeCacheName(u *url.URL) string {
	var b strings.Builder
	for _, r := range u.Host {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String() + ".json"
}

// SaveRoutes caches server's routes list (0600, replaced atomically) for
// route names and completion.
func (f *Factory) SaveRoutes(server *url.URL, routes []portalclient.Route) error {
	d, err := f.routeCacheDir()
	if err != nil {
		return err
	}
	now := f.now()
	if raw, cached, err := f.readRouteCache(server); err == nil && raw != nil {
		// The same list fetched again this soon: encoded with the cache's
		// own time it is the file as it stands, which is left alone (it
		// then expires up to a grain sooner), so a `routes list` run again
		// and again rewrites nothing.
		if at := cached.Fetched; !at.After(now) && now.Sub(at) < routeCacheGrain {
			if b, err := json.Marshal(routeCacheDoc{Server: server.String(), Fetched: at, Routes: routes}); err == nil && bytes.Equal(b, raw) {
				return nil
			}
		}
	}
	b, err := json.Marshal(routeCacheDoc{Server: server.String(), Fetched: now, Routes: routes})
	if err != nil {
		return fmt.Errorf("caching routes: %w", err)
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return fmt.Errorf("caching routes: %w", err)
	}
	return atomicfile.Write(filepath.Join(d, routeCacheName(server)), b, 0o600)
}

// DropRoutes deletes server's cached routes list (forgetting a server
// leaves nothing of it behind); no cache is no error.
func (f *Factory) DropRoutes(server *url.URL) error {
	d, err := f.routeCacheDir()
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d, routeCacheName(server))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the cached routes of %s: %w", server, err)
	}
	return nil
}

// CachedRoutes is server's cached routes list and when it was fetched;
// nil with no error when nothing is cached. It never touches the network.
func (f *Factory) CachedRoutes(server *url.URL) ([]portalclient.Route, time.Time, error) {
	_, doc, err := f.readRouteCache(server)
	return doc.Routes, doc.Fetched, err
}

// readRouteCache is server's cache file and what it holds; nil bytes and
// an empty doc with no error when there is none, or it is damaged (it is
// then refetched) or names another server.
func (f *Factory) readRouteCache(server *url.URL) ([]byte, routeCacheDoc, error) {
	d, err := f.routeCacheDir()
	if err != nil {
		return nil, routeCacheDoc{}, err
	}
	b, err := bounded.ReadFile(filepath.Join(d, routeCacheName(server)), maxRouteCache)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, routeCacheDoc{}, nil
	}
	if err != nil {
		return nil, routeCacheDoc{}, fmt.Errorf("reading cached routes: %w", err)
	}
	var doc routeCacheDoc
	if json.Unmarshal(b, &doc) != nil || doc.Server != server.String() {
		return nil, routeCacheDoc{}, nil
	}
	return b, doc, nil
}

// Routes is server's routes list: the cache when younger than
// RouteCacheTTL, else fetched (signing in when needed) and cached.
func (f *Factory) Routes(ctx context.Context, server *url.URL) ([]portalclient.Route, error) {
	if rs, at, err := f.CachedRoutes(server); err == nil && rs != nil && f.now().Sub(at) < RouteCacheTTL && !at.After(f.now()) {
		return rs, nil
	}
	pc, err := f.PortalClient()
	if err != nil {
		return nil, err
	}
	rs, err := pc.Routes(ctx, server, nil)
	if err != nil {
		return nil, fmt.Errorf("listing routes at %s: %w", server, err)
	}
	_ = f.SaveRoutes(server, rs) // the cache is a convenience
	return rs, nil
}

// errNoSignIn ends a background fetch that would need a sign-in.
var errNoSignIn = errors.New("the cached token is not accepted (no sign-in in the background)")

// cachedTokenOnly is an authenticator that never signs in.
type cachedTokenOnly struct{ portalclient.Authenticator }

func (cachedTokenOnly) SignIn(context.Context, *url.URL, string, func(string)) (string, error) {
	return "", errNoSignIn
}

// PrefetchRoutes fetches and caches server's routes list with the cached
// token only, never starting a sign-in: right after a login, route names
// complete and resolve and pasted host-form commands find their proxy.
func (f *Factory) PrefetchRoutes(ctx context.Context, server *url.URL) error {
	pc, err := f.PortalClient()
	if err != nil {
		return err
	}
	pc.Auth = cachedTokenOnly{pc.Auth}
	rs, err := pc.Routes(ctx, server, nil)
	if err != nil {
		return fmt.Errorf("listing routes at %s: %w", server, err)
	}
	return f.SaveRoutes(server, rs)
}

// LooksLikeRouteName reports whether a destination argument is a route
// name rather than host:port or a URL.
func LooksLikeRouteName(s string) bool {
	return s != "" && !strings.ContainsAny(s, ":/[]% \t\r\n")
}

// ResolveRoute finds the route named name (of type typ: "tcp", "udp", ""
// for either) on
// the remembered server: an exact name, else the only one whose name
// starts with it. Several matches are an error listing them; none is an
// error pointing at `routes list`.
func (f *Factory) ResolveRoute(ctx context.Context, name, typ string) (portalclient.Route, *url.URL, error) {
	server, err := f.ResolveServer("", "pomerium-cli login https://proxy.example.com (route names are looked up on the remembered server), or give host:port or tcp+https://proxy/host:port")
	if err != nil {
		return portalclient.Route{}, nil, err
	}
	rs, err := f.Routes(ctx, server)
	if err != nil {
		return portalclient.Route{}, nil, err
	}
	r, err := MatchRoute(rs, name, typ)
	if err != nil {
		var rne *RouteNameError
		if errors.As(err, &rne) {
			rne.Server = server.String()
		}
		return portalclient.Route{}, nil, err
	}
	return r, server, nil
}

// RouteOfType reports whether a route of type t is wanted: typ "tcp" or
// "udp", or "" for either (a saved connection may be both).
func RouteOfType(t, typ string) bool {
	if typ == "" {
		return t == "tcp" || t == "udp"
	}
	return t == typ
}

// MatchRoute picks the route named name among rs of type typ ("" = tcp
// or udp).
func MatchRoute(rs []portalclient.Route, name, typ string) (portalclient.Route, error) {
	var ofType []portalclient.Route
	for _, r := range rs {
		if RouteOfType(r.Type, typ) {
			ofType = append(ofType, r)
		}
	}
	if typ == "" {
		typ = "tcp or udp"
	}
	for _, pick := range []func(portalclient.Route) bool{
		func(r portalclient.Route) bool { return r.Name == name },
		func(r portalclient.Route) bool { return strings.EqualFold(r.Name, name) },
		func(r portalclient.Route) bool {
			return strings.HasPrefix(strings.ToLower(r.Name), strings.ToLower(name))
		},
	} {
		var hits []portalclient.Route
		for _, r := range ofType {
			if pick(r) {
				hits = append(hits, r)
			}
		}
		switch {
		case len(hits) == 1:
			return hits[0], nil
		case len(hits) > 1:
			return portalclient.Route{}, &RouteNameError{msg: fmt.Sprintf("route name \"%s\" is ambiguous: %s", termtext.Escape(name), candidates(hits))}
		}
	}
	if len(ofType) == 0 {
		return portalclient.Route{}, &RouteNameError{msg: fmt.Sprintf("no %s route named \"%s\": the server offers you no %s routes", typ, termtext.Escape(name), typ)}
	}
	return portalclient.Route{}, &RouteNameError{msg: fmt.Sprintf("no %s route named \"%s\"; %s routes: %s", typ, termtext.Escape(name), typ, candidates(ofType))}
}

// RouteNameError is a route name that names no route of the server, or
// several: its message lists the candidates, and cmdutil.Explain's hint
// points at the server's routes list.
type RouteNameError struct {
	Server string // the server asked, when known
	msg    string
}

func (e *RouteNameError) Error() string {
	if e.Server == "" {
		return e.msg
	}
	return e.msg + " (at " + termtext.Escape(e.Server) + ")"
}

// candidates lists routes as `name (from)`, at most 10.
func candidates(rs []portalclient.Route) string {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	var parts []string
	for i, r := range rs {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(rs)-10))
			break
		}
		parts = append(parts, termtext.Escape(r.Name)+" ("+termtext.Escape(r.From)+")")
	}
	return strings.Join(parts, ", ")
}

// RouteDestination turns a route name given as a tcp/udp destination into
// the route's from URL (and, for a host-form route, the server as the
// proxy to dial); anything else is returned as given.
func RouteDestination(ctx context.Context, f *Factory, ios *IOStreams, dest, pomeriumURL, typ string) (string, string, error) {
	if !LooksLikeRouteName(dest) {
		if pomeriumURL == "" {
			if r, server, ok := f.cachedHostFormRoute(dest, typ); ok {
				fmt.Fprintf(ios.ErrOut, "Route %s: %s (through %s)\n", termtext.Escape(r.Name), termtext.Escape(r.From), termtext.Escape(server))
				return dest, server, nil
			}
		}
		return dest, pomeriumURL, nil
	}
	r, server, err := f.ResolveRoute(ctx, dest, typ)
	if err != nil {
		return "", "", err
	}
	if pomeriumURL == "" && connections.HostForm(r.From) {
		pomeriumURL = server.String()
	}
	fmt.Fprintf(ios.ErrOut, "Route %s: %s\n", termtext.Escape(r.Name), termtext.Escape(r.From))
	return r.From, pomeriumURL, nil
}

// cachedHostFormRoute finds dest (host:port, or a host-form from URL) among
// the host-form routes of the remembered servers' cached routes lists. Such
// a route's host only names the route: the remembered server is the proxy
// that serves it, so the connect command its portal shows
// (`pomerium-cli tcp db.example.com:5432`) works pasted even where that
// name does not resolve to the proxy. Only the caches are read.
func (f *Factory) cachedHostFormRoute(dest, typ string) (portalclient.Route, string, bool) {
	want := hostFormAuthority(dest, typ)
	if want == "" {
		return portalclient.Route{}, "", false
	}
	// The default server first, then the others most recently used first.
	var servers []string
	if last, err := f.LastServer(); err == nil && last != "" {
		servers = append(servers, last)
	}
	if ps, err := f.Profiles(); err == nil {
		for _, p := range ps {
			servers = append(servers, p.URL)
		}
	}
	for _, s := range servers {
		server, err := ParseServerURL(s)
		if err != nil {
			continue
		}
		rs, _, err := f.CachedRoutes(server)
		if err != nil {
			continue
		}
		for _, r := range rs {
			if r.Type == typ && connections.HostForm(r.From) && hostFormAuthority(r.From, typ) == want {
				return r, server.String(), true
			}
		}
	}
	return portalclient.Route{}, "", false
}

// hostFormAuthority is the lower-cased host:port of dest given as
// host:port or as a host-form typ+https URL; "" for anything else.
func hostFormAuthority(dest, typ string) string {
	d := strings.TrimSpace(dest)
	if scheme, rest, ok := strings.Cut(d, "://"); ok {
		if !strings.EqualFold(scheme, typ+"+https") {
			return ""
		}
		d = strings.TrimSuffix(rest, "/")
	}
	if strings.ContainsAny(d, "/?#@") {
		return "" // a path form names its proxy itself
	}
	host, port, err := net.SplitHostPort(d)
	if err != nil || host == "" || port == "" {
		return ""
	}
	return strings.ToLower(net.JoinHostPort(host, port))
}
