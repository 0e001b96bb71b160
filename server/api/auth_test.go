package api

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestAuthentication(t *testing.T) {
	sessions := map[string]*Identity{
		"admin-tok":  {User: "u1", Email: "dev@example.com"},
		"group-tok":  {User: "u2", Email: "ops@example.com", Groups: []string{"admins"}},
		"nobody-tok": {User: "u3", Email: "user@example.com", Groups: []string{"staff"}},
	}
	e := newEnv(t, func(o *Options) {
		o.Admins = []string{"dev@example.com", "admins"}
		// Stands in for the server's session check (the e2e tests use the
		// real one): the Pomerium header forms, as authn reads them.
		o.Authenticate = func(r *http.Request) *Identity {
			if c, err := r.Cookie("_pomerium"); err == nil {
				return sessions[c.Value]
			}
			v := r.Header.Get("Authorization")
			for _, p := range []string{"Pomerium ", "Bearer Pomerium-"} {
				if strings.HasPrefix(v, p) {
					return sessions[strings.TrimPrefix(v, p)]
				}
			}
			return sessions[r.Header.Get("X-Pomerium-Authorization")]
		}
	})
	path := "/api/v0/organizations"
	for _, tc := range []struct {
		name string
		hdr  http.Header
		want int
	}{
		{"none", http.Header{}, 401},
		{"bearer id token", http.Header{"Authorization": {"Bearer " + e.id}}, 200},
		{"bare id token (the guide's form)", http.Header{"Authorization": {e.id}}, 200},
		{"garbage", http.Header{"Authorization": {"Bearer garbage"}}, 401},
		{"the API user token itself", http.Header{"Authorization": {"Bearer " + e.token}}, 401},
		{"admin session, Pomerium form", http.Header{"Authorization": {"Pomerium admin-tok"}}, 200},
		{"admin session, Bearer Pomerium- form", http.Header{"Authorization": {"Bearer Pomerium-admin-tok"}}, 200},
		{"admin session cookie only (no header: CSRF)", http.Header{"Cookie": {"_pomerium=admin-tok"}}, 401},
		{"admin session, X-Pomerium-Authorization", http.Header{"X-Pomerium-Authorization": {"admin-tok"}}, 200},
		{"admin by group", http.Header{"Authorization": {"Pomerium group-tok"}}, 200},
		{"signed in, not an admin", http.Header{"Authorization": {"Pomerium nobody-tok"}}, 403},
		{"bad session", http.Header{"Authorization": {"Pomerium forged"}}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hdr.Get("Authorization") == "" {
				tc.hdr.Set("Authorization", "") // keep call from adding the ID token
			}
			var out any
			e.call("GET", path, nil, tc.want, &out, tc.hdr)
			if tc.want != 200 {
				if m, _ := out.(map[string]any)["message"].(string); m == "" {
					t.Errorf("error body %v has no message", out)
				}
			}
		})
	}
	// The token endpoint itself needs no ID token but a valid user token.
	e.call("POST", "/api/v0/token", map[string]string{"refreshToken": e.token + "x"}, 401, nil, http.Header{})
	e.call("POST", "/api/v0/token", map[string]string{"refreshToken": "nodot"}, 401, nil, http.Header{})
	e.call("POST", "/api/v0/token", map[string]string{}, 400, nil, http.Header{})

	// ID tokens expire after an hour.
	e.advance(61 * time.Minute)
	e.call("GET", path, nil, 401, nil, nil)
	e.id = e.exchange(e.token)
	e.call("GET", path, nil, 200, nil, nil)
}

// TestRenewRevoke: renewing ends the old token and its ID tokens;
// revoking ends the user.
func TestRenewRevoke(t *testing.T) {
	e := newEnv(t)
	var u map[string]any
	e.call("POST", org+"/apiUsers", map[string]any{"name": "ci"}, 201, &u, nil)
	uid, oldTok := u["id"].(string), u["refreshToken"].(string)
	oldID := e.exchange(oldTok)
	as := func(id string) http.Header { return http.Header{"Authorization": {"Bearer " + id}} }
	e.call("GET", "/api/v0/organizations", nil, 200, nil, as(oldID))

	var renewed map[string]any
	e.call("POST", org+"/users/"+uid+"/renew", nil, 200, &renewed, nil)
	newTok := renewed["refreshToken"].(string)
	e.call("POST", "/api/v0/token", map[string]string{"refreshToken": oldTok}, 401, nil, http.Header{})
	e.call("GET", "/api/v0/organizations", nil, 401, nil, as(oldID))
	newID := e.exchange(newTok)
	e.call("GET", "/api/v0/organizations", nil, 200, nil, as(newID))

	e.call("DELETE", org+"/users/"+uid, nil, 204, nil, nil)
	e.call("GET", "/api/v0/organizations", nil, 401, nil, as(newID))
	e.call("POST", "/api/v0/token", map[string]string{"refreshToken": newTok}, 401, nil, http.Header{})
	e.call("POST", org+"/users/"+uid+"/renew", nil, 404, nil, nil)
}

func TestEnsureTokenFile(t *testing.T) {
	e := newEnv(t)
	path := t.TempDir() + "/api-user-token"
	ctx := context.Background()
	made, err := EnsureTokenFile(ctx, e.st, path, "dev")
	if err != nil || !made {
		t.Fatalf("first call: made %v, %v; want a new user", made, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v; want mode 0600", st, err)
	}
	tok, _ := os.ReadFile(path)
	e.exchange(strings.TrimSpace(string(tok)))
	if made, err := EnsureTokenFile(ctx, e.st, path, "dev"); err != nil || made {
		t.Errorf("second call: made %v, %v; want the token kept", made, err)
	}
	// A token whose user is gone is replaced.
	id, _, _ := strings.Cut(string(tok), ".")
	e.call("DELETE", org+"/users/"+id, nil, 204, nil, nil)
	if made, err := EnsureTokenFile(ctx, e.st, path, "dev"); err != nil || !made {
		t.Errorf("after revoking: made %v, %v; want a new user", made, err)
	}
	tok2, _ := os.ReadFile(path)
	if string(tok2) == string(tok) {
		t.Error("token file unchanged after its user was revoked")
	}
	e.exchange(strings.TrimSpace(string(tok2)))
}

// TestUnknownPaths: unknown paths and methods answer JSON errors too.
func TestUnknownPaths(t *testing.T) {
	e := newEnv(t)
	if msg := e.message("GET", "/api/v0/nothing", nil, 404); !strings.Contains(msg, "/api/v0/nothing") {
		t.Errorf("404 message %q; want the path", msg)
	}
	if msg := e.message("PATCH", org+"/routes", nil, 405); !strings.Contains(msg, "GET") || !strings.Contains(msg, "POST") {
		t.Errorf("405 message %q; want the allowed methods", msg)
	}
}

// TestOneCluster: a server is one cluster; creating or deleting one is
// refused with 409 saying how to grow instead, and the cluster stays.
func TestOneCluster(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ method, path string }{
		{"POST", org + "/clusters"},
		{"DELETE", org + "/clusters/" + ClusterID},
	} {
		var body any
		if c.method == "POST" {
			body = map[string]any{"name": "second"}
		}
		if msg := e.message(c.method, c.path, body, 409); !strings.Contains(msg, "start another replica") {
			t.Errorf("%s %s: message %q; want how to grow the cluster", c.method, c.path, msg)
		}
	}
	e.message("DELETE", org+"/clusters/nope", nil, 404)
	var clusters []map[string]any
	e.call("GET", org+"/clusters", nil, 200, &clusters, nil)
	if len(clusters) != 1 || clusters[0]["id"] != ClusterID {
		t.Errorf("clusters after the refusals: %v; want the one", clusters)
	}
}
