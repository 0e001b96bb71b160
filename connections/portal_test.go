package connections

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
)

func TestNormalizePortalURL(t *testing.T) {
	cases := []struct{ in, want, wantErr string }{
		{"https://Portal.Example.com/", "https://portal.example.com", ""},
		{"https://portal.example.com:443/.pomerium/routes?x=1", "https://portal.example.com", ""},
		{"portal.example.com:8443", "https://portal.example.com:8443", ""},
		{"http://127.0.0.1:80", "http://127.0.0.1", ""},
		{"https://[::1]:8443", "https://[::1]:8443", ""},
		{"", "", "empty"},
		{"ftp://x", "", "want https"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizePortalURL(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

const portal = "https://portal.example.com"

func route(id, name, from string) portalclient.Route {
	typ := "tcp"
	if strings.HasPrefix(from, "https://") {
		typ = "http"
	}
	return portalclient.Route{ID: id, Name: name, Type: typ, From: from}
}

func imported(id, routeID, name, from string, tags ...string) Connection {
	return Connection{ID: id, Name: name, Destination: from, Tags: tags, Source: &Source{PortalURL: portal, RouteID: routeID}}
}

func names(list []Connection) []string {
	out := []string{}
	for _, c := range list {
		out = append(out, c.Name)
	}
	return out
}

func TestPlanImport(t *testing.T) {
	routes := []portalclient.Route{
		route("r1", "postgres", "tcp+https://postgres.example.com:5432"),
		route("r2", "ssh", "tcp+https://proxy.example.com:8443/ssh.internal:22"),
		route("r3", "verify", "https://verify.example.com"),
		{ID: "r4", Name: "dns", Type: "udp", From: "udp+https://dns.example.com:53"},
	}
	type want struct{ add, update, unchanged, remove []string }
	cases := []struct {
		name     string
		existing []Connection
		imp      PortalImport
		want     want
		check    func(t *testing.T, p Plan)
	}{
		{
			name: "first import adds tcp and udp routes, not http",
			imp:  PortalImport{PortalURL: portal + "/", Routes: routes, Tags: []string{"work", " work"}},
			want: want{add: []string{"dns", "postgres", "ssh"}},
			check: func(t *testing.T, p Plan) {
				for _, c := range p.Add {
					if !reflect.DeepEqual(c.Tags, []string{"work"}) || c.Source == nil || c.Source.PortalURL != portal || c.ID == "" {
						t.Errorf("added %+v; want tag work, source %s and an id", c, portal)
					}
				}
				if p.Add[2].Destination != "tcp+https://proxy.example.com:8443/ssh.internal:22" || p.Add[2].PomeriumURL != "" {
					t.Errorf("path-form route: destination %q, pomerium_url %q; want the route's from and no pomerium_url", p.Add[2].Destination, p.Add[2].PomeriumURL)
				}
				// Host-form routes dial the proxy whose portal listed them,
				// not postgres.example.com:443.
				for _, c := range p.Add[:2] {
					if c.PomeriumURL != portal {
						t.Errorf("host-form route %s: pomerium_url %q; want the portal %s", c.Name, c.PomeriumURL, portal)
					}
				}
				if !p.Add[0].UDP() || p.Add[1].UDP() {
					t.Errorf("protocols: dns udp=%v, postgres udp=%v; want the udp route to stay udp", p.Add[0].UDP(), p.Add[1].UDP())
				}
			},
		},
		{
			name: "selection",
			imp:  PortalImport{PortalURL: portal, Routes: routes, Selected: map[string]bool{"r2": true}},
			want: want{add: []string{"ssh"}},
		},
		{
			name: "re-import keeps listen and autostart, merges tags, updates name and tls",
			existing: []Connection{func() Connection {
				c := imported("a", "r1", "old-name", "tcp+https://postgres.example.com:5432", "mine")
				c.ListenAddr, c.Autostart, c.PomeriumURL = "127.0.0.1:15432", true, "https://other:8443"
				return c
			}()},
			imp:  PortalImport{PortalURL: "https://PORTAL.example.com:443", Routes: routes[:1], Tags: []string{"work"}, TLS: tlsconfig.Options{DisableVerification: true}},
			want: want{update: []string{"postgres"}},
			check: func(t *testing.T, p Plan) {
				got := p.Update[0].New
				want := Connection{ID: "a", Name: "postgres", Destination: "tcp+https://postgres.example.com:5432",
					ListenAddr: "127.0.0.1:15432", PomeriumURL: "https://other:8443", Autostart: true,
					TLS: tlsconfig.Options{DisableVerification: true}, Tags: []string{"mine", "work"},
					Source: &Source{PortalURL: portal, RouteID: "r1"}}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("updated\n got %+v\nwant %+v", got, want)
				}
				if p.Update[0].Old.Name != "old-name" {
					t.Errorf("old name %q; want old-name", p.Update[0].Old.Name)
				}
			},
		},
		{
			name: "unchanged",
			existing: []Connection{func() Connection {
				c := imported("a", "r1", "postgres", "tcp+https://postgres.example.com:5432", "work")
				c.PomeriumURL = portal
				return c
			}()},
			imp:  PortalImport{PortalURL: portal, Routes: routes[:1], Tags: []string{"work"}},
			want: want{unchanged: []string{"postgres"}},
		},
		{
			// Imported before host-form routes got the portal's URL: they
			// dialed postgres.example.com:443; a re-import fixes them.
			name:     "host-form import without pomerium_url gets the portal's",
			existing: []Connection{imported("a", "r1", "postgres", "tcp+https://postgres.example.com:5432")},
			imp:      PortalImport{PortalURL: portal, Routes: routes[:1]},
			want:     want{update: []string{"postgres"}},
			check: func(t *testing.T, p Plan) {
				if got := p.Update[0].New.PomeriumURL; got != portal {
					t.Errorf("pomerium_url %q; want %s", got, portal)
				}
			},
		},
		{
			name: "removal proposed for routes gone and routes no longer tcp",
			existing: []Connection{
				func() Connection {
					c := imported("a", "r1", "postgres", "tcp+https://postgres.example.com:5432")
					c.PomeriumURL = portal
					return c
				}(),
				imported("b", "gone", "old-redis", "tcp+https://redis.example.com:6379"),
				imported("c", "r3", "was-tcp", "tcp+https://verify.example.com:1"),
			},
			imp:  PortalImport{PortalURL: portal, Routes: routes},
			want: want{add: []string{"dns", "ssh"}, unchanged: []string{"postgres"}, remove: []string{"old-redis", "was-tcp"}},
		},
		{
			name: "unselected route still listed is not removed",
			existing: []Connection{
				imported("a", "r1", "postgres", "tcp+https://postgres.example.com:5432"),
			},
			imp:  PortalImport{PortalURL: portal, Routes: routes, Selected: map[string]bool{"r2": true}},
			want: want{add: []string{"ssh"}},
		},
		{
			name: "other portal and hand-made untouched",
			existing: []Connection{
				{ID: "x", Name: "elsewhere", Destination: "tcp+https://postgres.example.com:5432", Source: &Source{PortalURL: "https://other.example.com", RouteID: "r1"}},
				{ID: "y", Name: "by hand", Destination: "tcp+https://postgres.example.com:5432"},
				{ID: "z", Name: "other gone", Destination: "h:1", Source: &Source{PortalURL: "https://portal.example.com:8443", RouteID: "gone"}},
			},
			imp:  PortalImport{PortalURL: portal, Routes: routes[:1]},
			want: want{add: []string{"postgres"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanImport(tc.existing, tc.imp)
			if err != nil {
				t.Fatal(err)
			}
			var upd []Connection
			for _, ch := range p.Update {
				upd = append(upd, ch.New)
			}
			for _, x := range []struct {
				what      string
				got, want []string
			}{{"add", names(p.Add), tc.want.add}, {"update", names(upd), tc.want.update},
				{"unchanged", names(p.Unchanged), tc.want.unchanged}, {"remove", names(p.Remove), tc.want.remove}} {
				if x.want == nil {
					x.want = []string{}
				}
				if !slices.Equal(x.got, x.want) {
					t.Errorf("%s: got %q; want %q", x.what, x.got, x.want)
				}
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestPlanImportSkipsBadRoutes(t *testing.T) {
	routes := []portalclient.Route{
		route("r1", "ok", "tcp+https://postgres.example.com:5432"),
		route("r2", "bad", "tcp+https://"),
	}
	existing := []Connection{imported("a", "r2", "bad", "tcp+https://old.example.com:1")}
	p, err := PlanImport(existing, PortalImport{PortalURL: portal, Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Add) != 1 || len(p.Skipped) != 1 || p.Skipped[0].Route.ID != "r2" || p.Skipped[0].Err == nil {
		t.Errorf("plan %+v; want ok added and bad skipped with a reason", p)
	}
	if len(p.Update) != 0 || len(p.Remove) != 0 {
		t.Errorf("plan %+v; want the saved connection of the bad route left alone", p)
	}
}

func TestPlanImportBadPortal(t *testing.T) {
	if _, err := PlanImport(nil, PortalImport{PortalURL: "ftp://x"}); err == nil {
		t.Fatal("got nil; want an error for an ftp portal URL")
	}
}

func TestApplyImportReconciles(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "c.json"))
	hand, err := s.Put(Connection{Name: "by hand", Destination: "h:1"})
	if err != nil {
		t.Fatal(err)
	}
	v1 := []portalclient.Route{
		route("r1", "postgres", "tcp+https://postgres.example.com:5432"),
		route("r2", "ssh", "tcp+https://proxy.example.com/ssh:22"),
	}
	plan := func(routes []portalclient.Route, tags ...string) Plan {
		t.Helper()
		list, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		p, err := PlanImport(list, PortalImport{PortalURL: portal, Routes: routes, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := ApplyImport(s, plan(v1, "work"), false); err != nil {
		t.Fatal(err)
	}
	// The user picks a port and start-at-launch for postgres.
	list, _ := s.List()
	pg, err := Find(list, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	pg.ListenAddr, pg.Autostart, pg.Tags = "127.0.0.1:15432", true, append(pg.Tags, "db")
	if _, err := s.Put(pg); err != nil {
		t.Fatal(err)
	}
	// The portal renames postgres, drops ssh and adds redis.
	v2 := []portalclient.Route{
		route("r1", "pg", "tcp+https://postgres.example.com:5432"),
		route("r3", "redis", "tcp+https://redis.example.com:6379"),
	}
	p := plan(v2, "work")
	if len(p.Add) != 1 || len(p.Update) != 1 || len(p.Remove) != 1 {
		t.Fatalf("plan add %d update %d remove %d; want 1 1 1", len(p.Add), len(p.Update), len(p.Remove))
	}
	if err := ApplyImport(s, p, false); err != nil {
		t.Fatal(err)
	}
	list, _ = s.List()
	if got, want := names(list), []string{"by hand", "pg", "redis", "ssh"}; !slices.Equal(got, want) {
		t.Errorf("without confirmation: %q; want %q (ssh kept)", got, want)
	}
	if err := ApplyImport(s, plan(v2, "work"), true); err != nil {
		t.Fatal(err)
	}
	list, _ = s.List()
	if got, want := names(list), []string{"by hand", "pg", "redis"}; !slices.Equal(got, want) {
		t.Errorf("with confirmation: %q; want %q", got, want)
	}
	pg2, _ := s.Get(pg.ID)
	if pg2.ListenAddr != "127.0.0.1:15432" || !pg2.Autostart || !slices.Equal(pg2.Tags, []string{"db", "work"}) {
		t.Errorf("after re-import %+v; want listen, autostart and tags db,work kept", pg2)
	}
	if got, _ := s.Get(hand.ID); !reflect.DeepEqual(got, hand) {
		t.Errorf("hand-made changed: %+v; want %+v", got, hand)
	}
	// A third identical import changes nothing.
	if p := plan(v2, "work"); !p.Empty() || len(p.Remove) != 0 {
		t.Errorf("identical re-import plan %+v; want empty", p)
	}
}
