package status

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
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
	accept := true
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !accept {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	u, _ := cmdutil.ParseServerURL(srv.URL)
	exp := time.Now().Add(2 * time.Hour).Unix()

	tests := []struct {
		name   string
		token  string
		accept bool
		args   []string
		want   []string
	}{
		{"signed in", jwt(map[string]any{"sub": "u1", "email": "a@example.com", "name": "Ann", "groups": []string{"g1", "g2"}, "exp": exp}), true,
			nil, []string{"Signed in as a@example.com (Ann), 2 groups", "Session expires ", "(in 2h0m0s)", "Token store: file", "Server accepts the token: yes"}},
		{"refused", jwt(map[string]any{"sub": "u1", "exp": exp}), false,
			nil, []string{"Signed in as u1\n", "Server accepts the token: no (sign in again: pomerium-cli login " + u.String() + ")"}},
		{"no token", "", true, nil, []string{"Not signed in: run pomerium-cli login " + u.String()}},
		{"json", jwt(map[string]any{"email": "a@example.com", "groups": []string{"g"}, "exp": exp}), true,
			[]string{"-o", "json"}, []string{`"email": "a@example.com"`, `"groups": 1`, `"accepted": true`, `"signed_in": true`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := cmdutil.TestIO()
			store := memStore{}
			if tt.token != "" {
				store[u.Host] = tt.token
			}
			f := &cmdutil.Factory{IO: ios, ConfigDir: t.TempDir(), Tokens: store}
			accept = tt.accept
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
		})
	}
}

// Every claim is server data: hostile emails, names and subjects are shown
// escaped, never raw.
func TestStatusHostileClaims(t *testing.T) {
	for _, s := range termtext.Samples {
		ios, _, out, _ := cmdutil.TestIO()
		err := writeText(out, []ServerStatus{{Server: "https://p.example.com", SignedIn: true, Email: s, Name: s, TokenStore: "file", TokenPath: s, Error: s}}, time.Now())
		_ = ios
		if err != nil {
			t.Fatal(err)
		}
		if err := termtext.Check(out.String(), false); err != nil {
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
