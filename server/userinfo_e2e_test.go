package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestUserInfoEndpoint: GET /.pomerium/user answers, like Pomerium, the
// user part of the JWT assertion for the credential sent; 404 with none,
// 401 for an explicit credential that does not verify.
func TestUserInfoEndpoint(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok, err := signIn(t, d)
	if err != nil {
		t.Fatal(err)
	}
	c := apiClient(t, d)
	u := d.URL.String() + "/.pomerium/user"
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no credential", nil, http.StatusNotFound},
		{"bad bearer token", map[string]string{"Authorization": "Bearer Pomerium-garbage"}, http.StatusUnauthorized},
		{"bad X-Pomerium-Authorization", map[string]string{"X-Pomerium-Authorization": "x.y.z"}, http.StatusUnauthorized},
		{"stale cookie", map[string]string{"Cookie": "_pomerium=garbage"}, http.StatusNotFound},
		{"good bearer token", map[string]string{"Authorization": "Bearer Pomerium-" + tok}, http.StatusOK},
		{"good Pomerium token", map[string]string{"Authorization": "Pomerium " + tok}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, u, tc.hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %q; want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want != http.StatusOK {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q; want application/json", ct)
			}
			var info map[string]any
			if err := json.Unmarshal([]byte(body), &info); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if info["email"] != "dev@example.com" || info["name"] != "Dev User" || info["sub"] == "" || info["user"] != info["sub"] {
				t.Errorf("user info %v; want dev@example.com, Dev User, user = sub", info)
			}
			if g, ok := info["groups"].([]any); !ok || len(g) != 1 || g[0] != "admins" {
				t.Errorf("groups %v; want [admins]", info["groups"])
			}
			if sid, _ := info["sid"].(string); sid == "" {
				t.Errorf("sid %v; want the session id", info["sid"])
			}
			for _, k := range []string{"iss", "aud", "exp", "iat", "jti"} {
				if _, ok := info[k]; ok {
					t.Errorf("user info has %q; Pomerium drops the token's own claims", k)
				}
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, u, nil)
	req.Header.Set("Authorization", "Pomerium "+tok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d; want 405", resp.StatusCode)
	}
}
