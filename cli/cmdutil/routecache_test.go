package cmdutil

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/portalclient"
)

func TestMatchRoute(t *testing.T) {
	rs := []portalclient.Route{
		{Name: "echo", Type: "tcp", From: "tcp+https://p/echo:1"},
		{Name: "admin-echo", Type: "tcp", From: "tcp+https://p/admin:1"},
		{Name: "db-primary", Type: "tcp", From: "tcp+https://p/db1:5432"},
		{Name: "db-replica", Type: "tcp", From: "tcp+https://p/db2:5432"},
		{Name: "Web", Type: "http", From: "https://web.p"},
		{Name: "dns", Type: "udp", From: "udp+https://p/dns:53"},
		{Name: "twin", Type: "tcp", From: "tcp+https://p/a:1"},
		{Name: "twin", Type: "tcp", From: "tcp+https://p/b:1"},
	}
	tests := []struct {
		name, typ, wantFrom, wantErr string
	}{
		{"echo", "tcp", "tcp+https://p/echo:1", ""},
		{"ECHO", "tcp", "tcp+https://p/echo:1", ""},
		{"admin", "tcp", "tcp+https://p/admin:1", ""},
		{"db", "tcp", "", `route name "db" is ambiguous: db-primary (tcp+https://p/db1:5432), db-replica (tcp+https://p/db2:5432)`},
		{"twin", "tcp", "", `ambiguous: twin (tcp+https://p/a:1), twin (tcp+https://p/b:1)`},
		{"web", "tcp", "", `no tcp route named "web"; tcp routes: admin-echo`},
		{"dns", "udp", "udp+https://p/dns:53", ""},
		{"echo", "udp", "", `no udp route named "echo"; udp routes: dns (udp+https://p/dns:53)`},
		{"x\x1b]0;evil\a", "tcp", "", `"x\x1b]0;evil\x07"`},
		{"dns", "", "udp+https://p/dns:53", ""},
		{"echo", "", "tcp+https://p/echo:1", ""},
		{"web", "", "", `no tcp or udp route named "web"; tcp or udp routes: admin-echo`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.typ, func(t *testing.T) {
			r, err := MatchRoute(append([]portalclient.Route{}, rs...), tt.name, tt.typ)
			if tt.wantErr == "" {
				if err != nil || r.From != tt.wantFrom {
					t.Fatalf("MatchRoute = %+v, %v; want %s", r, err, tt.wantFrom)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("MatchRoute error = %v; want it to hold %q", err, tt.wantErr)
			}
			if cerr := termtest.Check(err.Error(), false); cerr != nil {
				t.Errorf("error carries raw controls: %v", cerr)
			}
		})
	}
	for _, s := range termtest.Samples {
		_, err := MatchRoute([]portalclient.Route{{Name: s + "a", Type: "tcp", From: s}, {Name: s + "b", Type: "tcp", From: s}}, s, "tcp")
		if err == nil || termtest.Check(err.Error(), false) != nil {
			t.Errorf("hostile route names %q: error %q; want escaped candidates", s, err)
		}
	}
}

func TestRouteCacheTTL(t *testing.T) {
	f := newProfileFactory(t)
	f.CacheDir = t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Now = func() time.Time { return now }
	// A server nothing listens on: any fetch fails.
	u := mustURL(t, "https://127.0.0.1:1")
	if err := f.SaveRoutes(u, []portalclient.Route{{Name: "echo", Type: "tcp"}}); err != nil {
		t.Fatal(err)
	}
	rs, err := f.Routes(context.Background(), u)
	if err != nil || len(rs) != 1 {
		t.Fatalf("Routes with a fresh cache = %v, %v; want the cached list, no network", rs, err)
	}
	now = now.Add(RouteCacheTTL + time.Second)
	if _, err := f.Routes(context.Background(), u); err == nil || !strings.Contains(err.Error(), "listing routes at https://127.0.0.1:1") {
		t.Fatalf("Routes with a stale cache: %v; want a fetch (failing here)", err)
	}
	if rs, at, err := f.CachedRoutes(u); err != nil || len(rs) != 1 || !at.Equal(now.Add(-RouteCacheTTL-time.Second)) {
		t.Errorf("CachedRoutes = %v, %v, %v; want the list at any age", rs, at, err)
	}
}

// A host-form route's connect command (`tcp db.example.com:5432`) goes
// through the remembered server that listed it, from the cache alone.
func TestCachedHostFormRoute(t *testing.T) {
	f := &Factory{ConfigDir: t.TempDir(), CacheDir: t.TempDir()}
	server := "https://proxy.example.com:8443"
	if err := f.SaveLastServer(server); err != nil {
		t.Fatal(err)
	}
	u, _ := ParseServerURL(server)
	if err := f.SaveRoutes(u, []portalclient.Route{
		{Name: "db", Type: "tcp", From: "tcp+https://db.example.com:5432"},
		{Name: "path", Type: "tcp", From: "tcp+https://other.example.com/path.internal:1"},
		{Name: "dns", Type: "udp", From: "udp+https://dns.example.com:53"},
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dest, typ string
		want      string // route name, "" = none
	}{
		{"db.example.com:5432", "tcp", "db"},
		{"DB.example.com:5432", "tcp", "db"},
		{"tcp+https://db.example.com:5432", "tcp", "db"},
		{"tcp+https://db.example.com:5432/", "tcp", "db"},
		{"db.example.com:5433", "tcp", ""},
		{"db.example.com:5432", "udp", ""},
		{"udp+https://db.example.com:5432", "tcp", ""},
		{"dns.example.com:53", "udp", "dns"},
		{"path.internal:1", "tcp", ""},
		{"tcp+https://other.example.com/path.internal:1", "tcp", ""},
		{"tcp+https://user@db.example.com:5432", "tcp", ""},
	}
	for _, tt := range tests {
		t.Run(tt.dest+"/"+tt.typ, func(t *testing.T) {
			r, s, ok := f.cachedHostFormRoute(tt.dest, tt.typ)
			if tt.want == "" {
				if ok {
					t.Fatalf("found %+v via %s; want none", r, s)
				}
				return
			}
			if !ok || r.Name != tt.want || s != server {
				t.Fatalf("got %+v via %q (%v); want %s via %s", r, s, ok, tt.want, server)
			}
		})
	}
	// Another remembered server, not the default, listed a route too.
	other, _ := ParseServerURL("https://other.example.com")
	if err := f.RememberServer(other, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveRoutes(other, []portalclient.Route{{Name: "cache", Type: "tcp", From: "tcp+https://redis.example.com:6379"}}); err != nil {
		t.Fatal(err)
	}
	if r, s, ok := f.cachedHostFormRoute("redis.example.com:6379", "tcp"); !ok || r.Name != "cache" || s != other.String() {
		t.Errorf("redis via another remembered server: %+v via %q (%v); want cache via %s", r, s, ok, other)
	}
	if _, s, ok := f.cachedHostFormRoute("db.example.com:5432", "tcp"); !ok || s != server {
		t.Errorf("db: via %q (%v); want the default server %s first", s, ok, server)
	}
	// Nothing remembered: nothing found, nothing fetched.
	empty := &Factory{ConfigDir: t.TempDir(), CacheDir: t.TempDir()}
	if _, _, ok := empty.cachedHostFormRoute("db.example.com:5432", "tcp"); ok {
		t.Error("found a route with no server remembered")
	}
}

// The same list saved again within routeCacheGrain leaves the cache file
// and its time alone; a changed list or a later save replaces both.
func TestSaveRoutesGrain(t *testing.T) {
	f := &Factory{CacheDir: t.TempDir()}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	f.Now = func() time.Time { return now }
	u := mustURL(t, "https://proxy.example.com")
	one := []portalclient.Route{{Name: "echo", Type: "tcp"}}
	two := []portalclient.Route{{Name: "echo", Type: "tcp"}, {Name: "db", Type: "tcp"}}
	if err := f.SaveRoutes(u, one); err != nil {
		t.Fatal(err)
	}
	file := watchFile(t, filepath.Join(f.CacheDir, "routes", routeCacheName(u)))
	steps := []struct {
		name        string
		after       time.Duration
		routes      []portalclient.Route
		wantFetched time.Duration
		rewrite     bool
	}{
		{"same list within the grain", routeCacheGrain - time.Second, one, 0, false},
		{"another list within the grain", routeCacheGrain - time.Second, two, routeCacheGrain - time.Second, true},
		{"same list past the grain", 2*routeCacheGrain - time.Second, two, 2*routeCacheGrain - time.Second, true},
		{"a clock gone back", time.Second, two, time.Second, true},
	}
	for _, s := range steps {
		now = start.Add(s.after)
		if err := f.SaveRoutes(u, s.routes); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if rewritten := file.replaced(); rewritten != s.rewrite {
			t.Errorf("%s: cache rewritten = %v, want %v", s.name, rewritten, s.rewrite)
		}
		rs, at, err := f.CachedRoutes(u)
		if err != nil || len(rs) != len(s.routes) || !at.Equal(start.Add(s.wantFetched)) {
			t.Errorf("%s: CachedRoutes = %d routes at %v, %v; want %d at %v", s.name, len(rs), at, err, len(s.routes), start.Add(s.wantFetched))
		}
	}
}
