package cmdutil

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/termtext"
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
			if cerr := termtext.Check(err.Error(), false); cerr != nil {
				t.Errorf("error carries raw controls: %v", cerr)
			}
		})
	}
	for _, s := range termtext.Samples {
		_, err := MatchRoute([]portalclient.Route{{Name: s + "a", Type: "tcp", From: s}, {Name: s + "b", Type: "tcp", From: s}}, s, "tcp")
		if err == nil || termtext.Check(err.Error(), false) != nil {
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
