package status

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

type memStore map[string]string

func (m memStore) Load(h string) (string, error) {
	if v, ok := m[h]; ok {
		return v, nil
	}
	return "", authflow.ErrNotFound
}
func (m memStore) Save(h, t string) error { m[h] = t; return nil }
func (m memStore) Delete(h string) error  { delete(m, h); return nil }
func (m memStore) Hosts() ([]string, error) {
	var out []string
	for h := range m {
		out = append(out, h)
	}
	return out, nil
}

func jwt(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return "e30." + base64.RawURLEncoding.EncodeToString(b) + ".sig"
}

func TestStatus(t *testing.T) {
	var (
		accept   bool
		old      bool // a server without /.pomerium/user
		requests atomic.Int32
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch {
		case r.URL.Path == "/.pomerium/user" && !old:
			if !accept {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"sub":"u1","user":"u1","email":"srv@example.com","name":"Server Name","groups":["a","b","c"],"sid":"s1"}`)
		case r.URL.Path == "/healthz":
			if !accept {
				w.WriteHeader(http.StatusUnauthorized)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	u, _ := cmdutil.ParseServerURL(srv.URL)
	exp := time.Now().Add(2 * time.Hour).Unix()
	thin := jwt(map[string]any{"sub": "u1", "email": "a@example.com", "exp": exp}) // what our CLI tokens carry

	tests := []struct {
		name         string
		token        string
		accept, old  bool
		args         []string
		want         []string
		wantRequests int32
	}{
		{"server names the user", thin, true, false, nil, []string{"Signed in as srv@example.com (Server Name), 3 groups", "Session expires ", "(in 2h0m0s)", "Token store: file", "Server accepts the token: yes"}, 1},
		{"older server: token claims and /healthz", jwt(map[string]any{"sub": "u1", "email": "a@example.com", "name": "Ann", "groups": []string{"g1", "g2"}, "exp": exp}), true, true,
			nil, []string{"Signed in as a@example.com (Ann), 2 groups", "Server accepts the token: yes"}, 2},
		{"refused", jwt(map[string]any{"sub": "u1", "exp": exp}), false, false,
			nil, []string{"Signed in as u1\n", "Server accepts the token: no (sign in again: pomerium-cli login " + u.String() + ")"}, 1},
		{"refused by an older server", thin, false, true, nil, []string{"Server accepts the token: no"}, 2},
		{"no token", "", true, false, nil, []string{"Not signed in: run pomerium-cli login " + u.String()}, 0},
		{"json", thin, true, false,
			[]string{"-o", "json"}, []string{`"email": "srv@example.com"`, `"name": "Server Name"`, `"groups": 3`, `"accepted": true`, `"signed_in": true`}, 1},
		{"yaml", thin, true, false,
			[]string{"-o", "yaml"}, []string{"email: srv@example.com", "name: Server Name", "groups: 3", "accepted: true", "token_store: file"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := cmdutil.TestIO()
			store := memStore{}
			if tt.token != "" {
				store[u.Host] = tt.token
			}
			f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), Tokens: store}
			accept, old = tt.accept, tt.old
			requests.Store(0)
			root := f.NewRootCommand()
			root.AddCommand(NewCmdStatus(f, nil))
			root.SetArgs(append([]string{"status", srv.URL, "--ca-cert", ca}, tt.args...))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("status output %q; want it to hold %q", out, w)
				}
			}
			if n := requests.Load(); n != tt.wantRequests {
				t.Errorf("status made %d requests; want %d", n, tt.wantRequests)
			}
		})
	}
}

// Every claim is server data: hostile emails, names and subjects are shown
// escaped, never raw.
func TestStatusHostileClaims(t *testing.T) {
	for _, s := range termtest.Samples {
		ios, _, out, _ := cmdutil.TestIO()
		err := writeText(out, []ServerStatus{{Server: "https://p.example.com", SignedIn: true, Email: s, Name: s, TokenStore: "file", TokenPath: s, Error: s}}, time.Now())
		_ = ios
		if err != nil {
			t.Fatal(err)
		}
		if err := termtest.Check(out.String(), false); err != nil {
			t.Errorf("status with claim %q: %v", s, err)
		}
	}
}

func TestParseTokenInfoBounds(t *testing.T) {
	if _, ok := cmdutil.ParseTokenInfo(strings.Repeat("a", 70<<10) + ".b.c"); ok {
		t.Error("a 70 KiB token was decoded; want it refused")
	}
	if ti, ok := cmdutil.ParseTokenInfo(jwt(map[string]any{"email": "x@y", "groups": "notalist"})); !ok || ti.HasGroups || ti.Email != "x@y" {
		t.Errorf("groups not a list: %+v %v; want the email and no groups", ti, ok)
	}
}

// /.pomerium/user is server data: hostile names and emails are shown
// escaped, and an endless answer is cut off, not read whole.
func TestStatusHostileUserInfo(t *testing.T) {
	var body string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.pomerium/user" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	u, _ := cmdutil.ParseServerURL(srv.URL)
	run := func() string {
		ios, _, out, _ := cmdutil.TestIO()
		f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), Tokens: memStore{u.Host: jwt(map[string]any{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()})}}
		root := f.NewRootCommand()
		root.AddCommand(NewCmdStatus(f, nil))
		root.SetArgs([]string{"status", srv.URL, "--ca-cert", ca})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	for _, s := range termtest.Samples {
		b, _ := json.Marshal(map[string]any{"sub": s, "user": s, "email": s, "name": s, "groups": []string{s}})
		body = string(b)
		if err := termtest.Check(run(), false); err != nil {
			t.Errorf("user info %q: %v", s, err)
		}
	}
	body = `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	if out := run(); !strings.Contains(out, "is over 1048576 bytes") || strings.Contains(out, "xxxxxxxxxx") {
		t.Errorf("a 2 MiB answer: %q; want it refused as too big", out[:min(len(out), 300)])
	}
}

// A server that cannot be reached is reported on its own lines with the
// hint the one error mapping gives; other servers are still shown.
func TestStatusUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	u, _ := cmdutil.ParseServerURL("https://" + addr)
	ios, _, out, _ := cmdutil.TestIO()
	f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), Tokens: memStore{u.Host: jwt(map[string]any{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()})}}
	root := f.NewRootCommand()
	root.AddCommand(NewCmdStatus(f, nil))
	root.SetArgs([]string{"status", u.String()})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Error: ") || !strings.Contains(out.String(), "connection refused; hint: is the proxy running at "+addr+"?") {
		t.Errorf("status of a server that is down: %q; want the error with its hint", out)
	}
}

// A server with a cached token that is not remembered still shows up in
// `status` with no arguments: a live sign-in is never hidden.
func TestStatusTokenOnlyServer(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.pomerium/user" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"sub":"u1","user":"u1","email":"old@example.com","groups":[]}`)
	}))
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	u, _ := cmdutil.ParseServerURL(srv.URL)
	ios, _, out, _ := cmdutil.TestIO()
	f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), Tokens: memStore{u.Host: jwt(map[string]any{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()}),
		"bad host\x1b": "x"}}
	root := f.NewRootCommand()
	root.AddCommand(NewCmdStatus(f, nil))
	root.SetArgs([]string{"status", "--ca-cert", ca})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), u.String()+"\n  Signed in as old@example.com, 0 groups") || strings.Contains(out.String(), "bad host") {
		t.Errorf("status = %q; want the token-only server shown and the unparsable host skipped", out)
	}
}
