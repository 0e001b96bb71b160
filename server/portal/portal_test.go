package portal

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/policy"
)

const sampleConfig = `
routes:
  - from: tcp+https://postgres.example.com:5432
    to: tcp://10.0.0.5:5432
    allow_any_authenticated_user: true
  - from: https://verify.example.com
    to: http://verify:8080
    allow_any_authenticated_user: true
  - from: tcp+https://127.0.0.1:8443/echo.internal:7000
    to: tcp://127.0.0.1:7000
    description: echoes bytes
    allow_any_authenticated_user: true
  - from: tcp+https://admin-echo.internal:7001
    name: admin-echo
    to: tcp://127.0.0.1:7000
    allowed_users: [dev@example.com]
  - from: udp+https://dns.example.com:53
    to: udp://10.0.0.53:53
    policy:
      allow:
        or:
          - groups: admins
  - from: https://public.example.com
    to: http://public:8080
    allow_public_unauthenticated_access: true
    logo_url: https://example.com/logo.png
`

var (
	dev   = &policy.Identity{User: "u-dev", Email: "dev@example.com", Groups: []string{"admins"}}
	guest = &policy.Identity{User: "u-guest", Email: "guest@example.com"}
)

func mustRoutes(t *testing.T, yml string) []config.Route {
	t.Helper()
	cfg, err := config.Parse([]byte(yml))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	return cfg.Routes
}

func TestWriteJSONExactShape(t *testing.T) {
	routes := mustRoutes(t, sampleConfig)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Entries(routes, guest)); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	// Ids are pinned: they must not change across releases for an
	// unchanged route definition (clients key saved connections on them).
	want := `{"routes":[` +
		`{"id":"` + RouteID(&routes[0]) + `","name":"postgres","type":"tcp","from":"tcp+https://postgres.example.com:5432","description":"","connect_command":"pomerium-cli tcp postgres.example.com:5432","logo_url":""},` +
		`{"id":"` + RouteID(&routes[1]) + `","name":"verify","type":"http","from":"https://verify.example.com","description":"","logo_url":""},` +
		`{"id":"` + RouteID(&routes[2]) + `","name":"echo","type":"tcp","from":"tcp+https://127.0.0.1:8443/echo.internal:7000","description":"echoes bytes","connect_command":"pomerium-cli tcp tcp+https://127.0.0.1:8443/echo.internal:7000","logo_url":""},` +
		`{"id":"` + RouteID(&routes[5]) + `","name":"public","type":"http","from":"https://public.example.com","description":"","logo_url":"https://example.com/logo.png"}` +
		"]}\n"
	if got := buf.String(); got != want {
		t.Errorf("WriteJSON:\n got  %s\n want %s", got, want)
	}
	pinned := map[int]string{0: "e20e0016c5cdaf9a", 1: "cec909e3e3cc8ac2"}
	for i, id := range pinned {
		if got := RouteID(&routes[i]); got != id {
			t.Errorf("RouteID(routes[%d]) = %s; want the pinned %s", i, got, id)
		}
	}

	// Every entry has exactly these keys; connect_command only for tcp/udp.
	var doc struct {
		Routes []map[string]any `json:"routes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("decoding our own JSON: %v", err)
	}
	for _, e := range doc.Routes {
		var keys []string
		for k := range e {
			keys = append(keys, k)
		}
		_, hasCmd := e["connect_command"]
		if wantCmd := e["type"] != "http"; hasCmd != wantCmd {
			t.Errorf("route %v: connect_command present = %v; want %v", e["name"], hasCmd, wantCmd)
		}
		wantKeys := 6
		if hasCmd {
			wantKeys = 7
		}
		if len(keys) != wantKeys {
			t.Errorf("route %v: keys %v; want %d keys", e["name"], keys, wantKeys)
		}
	}
}

func TestWriteJSONEmpty(t *testing.T) {
	for _, entries := range [][]Entry{nil, {}} {
		var buf bytes.Buffer
		if err := WriteJSON(&buf, entries); err != nil {
			t.Fatalf("WriteJSON: %v", err)
		}
		if got, want := buf.String(), "{\"routes\":[]}\n"; got != want {
			t.Errorf("WriteJSON(%#v) = %q; want %q", entries, got, want)
		}
	}
}

func TestEntriesFilterByIdentity(t *testing.T) {
	routes := mustRoutes(t, sampleConfig)
	tests := []struct {
		name string
		id   *policy.Identity
		want []string
	}{
		{"anonymous sees public routes only", nil, []string{"public"}},
		{"guest", guest, []string{"postgres", "verify", "echo", "public"}},
		{"dev", dev, []string{"postgres", "verify", "echo", "admin-echo", "dns", "public"}},
		{"stranger from another domain", &policy.Identity{Email: "x@evil.org"}, []string{"postgres", "verify", "echo", "public"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range Entries(routes, tt.id) {
				got = append(got, e.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Entries names = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestEntryFields(t *testing.T) {
	routes := mustRoutes(t, sampleConfig)
	all := AllEntries(routes)
	tests := []struct {
		i        int
		typ, cmd string
	}{
		{0, "tcp", "pomerium-cli tcp postgres.example.com:5432"},
		{1, "http", ""},
		{2, "tcp", "pomerium-cli tcp tcp+https://127.0.0.1:8443/echo.internal:7000"},
		{3, "tcp", "pomerium-cli tcp admin-echo.internal:7001"},
		{4, "udp", "pomerium-cli udp dns.example.com:53"},
		{5, "http", ""},
	}
	for _, tt := range tests {
		e := all[tt.i]
		if e.Type != tt.typ || e.ConnectCommand != tt.cmd {
			t.Errorf("routes[%d]: type %q command %q; want %q %q", tt.i, e.Type, e.ConnectCommand, tt.typ, tt.cmd)
		}
		if e.From != routes[tt.i].From {
			t.Errorf("routes[%d]: from %q; want %q", tt.i, e.From, routes[tt.i].From)
		}
	}
	// Names do not depend on who asks: the same route has the same name
	// in every user's list.
	for _, id := range []*policy.Identity{nil, guest, dev} {
		for _, e := range Entries(routes, id) {
			if want := all[indexOfID(all, e.ID)].Name; e.Name != want {
				t.Errorf("identity %v: route %s named %q; want %q", id, e.ID, e.Name, want)
			}
		}
	}
}

func indexOfID(all []Entry, id string) int {
	for i, e := range all {
		if e.ID == id {
			return i
		}
	}
	return -1
}

func TestRouteID(t *testing.T) {
	base := "routes:\n  - from: https://a.example.com\n    to: http://a:8080\n"
	id := func(yml string) string {
		t.Helper()
		r := mustRoutes(t, yml)
		return RouteID(&r[0])
	}
	first := id(base)
	if len(first) != 16 || strings.Trim(first, "0123456789abcdef") != "" {
		t.Fatalf("RouteID = %q; want 16 lower-case hex chars", first)
	}
	same := []struct{ name, yml string }{
		{"parsed again", base},
		{"name changed", base + "    name: other\n"},
		{"description changed", base + "    description: hi\n"},
		{"policy changed", base + "    allow_any_authenticated_user: true\n"},
	}
	for _, tt := range same {
		t.Run("same when "+tt.name, func(t *testing.T) {
			if got := id(tt.yml); got != first {
				t.Errorf("RouteID = %s; want %s (unchanged)", got, first)
			}
		})
	}
	different := []struct{ name, yml string }{
		{"from", "routes:\n  - from: https://b.example.com\n    to: http://a:8080\n"},
		{"to", "routes:\n  - from: https://a.example.com\n    to: http://a:8081\n"},
		{"weight", "routes:\n  - from: https://a.example.com\n    to: http://a:8080,2\n"},
		{"prefix", base + "    prefix: /x\n"},
		{"path", base + "    path: /x\n"},
		{"prefix vs path", base + "    path: /\n"},
	}
	seen := map[string]string{first: "base"}
	for _, tt := range different {
		t.Run("differs by "+tt.name, func(t *testing.T) {
			got := id(tt.yml)
			if prev, ok := seen[got]; ok {
				t.Errorf("RouteID = %s, the same as for %s; want distinct", got, prev)
			}
			seen[got] = tt.name
		})
	}
	// Distinct within a config.
	routes := mustRoutes(t, sampleConfig)
	ids := map[string]bool{}
	for _, e := range AllEntries(routes) {
		if ids[e.ID] {
			t.Errorf("duplicate id %s", e.ID)
		}
		ids[e.ID] = true
	}
}

// TestRouteIDKey: a code-built route with IDKey keeps its id whatever
// its upstream, and differs from the same route without the key.
func TestRouteIDKey(t *testing.T) {
	mk := func(to, key string) config.Route {
		t.Helper()
		r := mustRoutes(t, "routes:\n  - from: tcp+https://127.0.0.1:8443/echo.internal:7000\n    to: "+to+"\n")[0]
		r.IDKey = key
		return r
	}
	a, b := mk("tcp://127.0.0.1:40001", "dev-sample:echo"), mk("tcp://127.0.0.1:40002", "dev-sample:echo")
	if RouteID(&a) != RouteID(&b) {
		t.Errorf("RouteID with the same IDKey and another upstream: got %s and %s; want equal", RouteID(&a), RouteID(&b))
	}
	plain := mk("tcp://127.0.0.1:40001", "")
	if RouteID(&plain) == RouteID(&a) {
		t.Errorf("RouteID with and without IDKey: both %s; want distinct", RouteID(&a))
	}
	other := mk("tcp://127.0.0.1:40001", "dev-sample:admin-echo")
	if RouteID(&other) == RouteID(&a) {
		t.Errorf("RouteID with another IDKey: both %s; want distinct", RouteID(&a))
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name  string
		froms []string // "from" or "from|name"
		want  []string
	}{
		{"first label", []string{"https://verify.example.com", "https://app.example.com"}, []string{"verify", "app"}},
		{"shared first label uses more", []string{"tcp+https://db.a.example.com:5432", "tcp+https://db.b.example.com:5432"}, []string{"db-a", "db-b"}},
		{"only colliding routes deepen", []string{"https://db.x.example.com", "https://db.y.example.com", "https://web.x.example.com"}, []string{"db-x", "db-y", "web"}},
		{"deepen until distinct", []string{"https://db.a.example.com", "https://db.a.example.org"}, []string{"db-a-example-com", "db-a-example-org"}},
		{"same host different ports get suffixes", []string{"tcp+https://db.example.com:5432", "tcp+https://db.example.com:5433", "tcp+https://db.example.com:5434"}, []string{"db", "db-2", "db-3"}},
		{"same host and a sibling", []string{"tcp+https://db.x.com:1", "tcp+https://db.x.com:2", "tcp+https://db.y.com:1"}, []string{"db-x", "db-x-2", "db-y"}},
		{"path form uses the path's host", []string{"tcp+https://proxy.example.com:8443/echo.internal:7000", "https://proxy.example.com"}, []string{"echo", "proxy"}},
		{"explicit name kept", []string{"https://verify.example.com|Who am I"}, []string{"Who am I"}},
		{"explicit name wins over derived", []string{"https://verify.example.com", "https://x.example.com|verify"}, []string{"verify-2", "verify"}},
		{"duplicate explicit names", []string{"https://a.example.com|db", "https://b.example.com|db"}, []string{"db", "db-2"}},
		{"suffix skips taken names", []string{"https://a.example.com|db-2", "tcp+https://db.example.com:1", "tcp+https://db.example.com:2"}, []string{"db-2", "db", "db-3"}},
		{"ip host", []string{"tcp+https://10.0.0.5:5432", "tcp+https://10.0.0.6:5432"}, []string{"10-0-0-5", "10-0-0-6"}},
		{"ipv6 host", []string{"tcp+https://[::1]:5432"}, []string{"--1"}},
		{"single label hosts", []string{"https://localhost", "https://localhost:8443|", "tcp+https://localhost:1"}, []string{"localhost", "localhost-2", "localhost-3"}},
		{"upper case host", []string{"https://Verify.Example.com"}, []string{"verify"}},
		{"path form hosts collide", []string{"tcp+https://p:1/db.a:5432", "tcp+https://p:1/db.b:5432"}, []string{"db-a", "db-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var yml strings.Builder
			yml.WriteString("routes:\n")
			for i, f := range tt.froms {
				from, name, _ := strings.Cut(f, "|")
				to := "http://up:80"
				if strings.HasPrefix(from, "tcp+") {
					to = "tcp://up:" + itoa(1000+i)
				}
				yml.WriteString("  - from: " + from + "\n    to: " + to + "\n")
				if name != "" {
					yml.WriteString("    name: " + name + "\n")
				}
				if strings.HasPrefix(from, "https://") {
					yml.WriteString("    prefix: /p" + itoa(i) + "\n") // keep same-host http routes distinct
				}
			}
			routes := mustRoutes(t, yml.String())
			got := Names(routes)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Names = %q; want %q", got, tt.want)
			}
			// Deterministic: the same input always gives the same names.
			for i := 0; i < 5; i++ {
				if again := Names(routes); !reflect.DeepEqual(again, got) {
					t.Fatalf("Names run %d = %q; want %q", i, again, got)
				}
			}
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestNamesCodeBuiltRoutes(t *testing.T) {
	// Routes built in code without Validate still get a sensible name.
	routes := []config.Route{{From: "https://verify.example.com"}, {From: "tcp+https://db.example.com:5432"}}
	if got, want := Names(routes), []string{"verify", "db"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %q; want %q", got, want)
	}
	if got := routeType(routes[1].From); got != "tcp" {
		t.Errorf("routeType = %q; want tcp", got)
	}
}
