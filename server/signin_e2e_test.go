package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server/session"
)

func TestBrowserSignInThroughBuiltInProvider(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	c := browser(t, d)
	resp, body := get(t, c, d.URL.String()+"/.pomerium/routes", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("routes page after sign-in: got %d %q; want 200", resp.StatusCode, body)
	}
	if resp.Request.URL.Path != "/.pomerium/routes" {
		t.Errorf("landed on %s; want back on /.pomerium/routes", resp.Request.URL)
	}
	for _, name := range []string{"echo", "admin-echo", "verify", "public"} {
		if !strings.Contains(body, name) {
			t.Errorf("routes page does not mention %q", name)
		}
	}
	var sess *http.Cookie
	for _, ck := range c.Jar.Cookies(d.URL) {
		if ck.Name == "_pomerium" {
			sess = ck
		}
	}
	if sess == nil {
		t.Fatal("no _pomerium cookie after sign-in")
	}
	// The cookie alone authenticates the JSON API.
	resp, body = get(t, c, d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{"Accept": "application/json"})
	if resp.StatusCode != http.StatusOK || !slices.Contains(routeNames(t, body), "admin-echo") {
		t.Fatalf("routes API with the cookie: got %d %q; want 200 listing admin-echo", resp.StatusCode, body)
	}

	// Sign out (the confirmation form, then its POST) ends the session:
	// the API is unauthenticated again.
	resp, body = get(t, c, d.URL.String()+"/.pomerium/sign_out", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `method="post"`) {
		t.Fatalf("sign out page: got %d %q; want 200 with a confirmation form", resp.StatusCode, body)
	}
	resp, err := c.Post(d.URL.String()+"/.pomerium/sign_out", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign out: got %d; want 200 after the redirects", resp.StatusCode)
	}
	resp, body = get(t, c, d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{"Accept": "application/json"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("routes API after sign out: got %d %q; want 401", resp.StatusCode, body)
	}
}

func TestSignInCookiesAreSecure(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	c := apiClient(t, d)
	resp, _ := get(t, c, d.URL.String()+"/.pomerium/sign_in?return=/.pomerium/routes", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("sign_in: got %d; want 302 to the authenticate host", resp.StatusCode)
	}
	var csrf *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "_pomerium_csrf" {
			csrf = ck
		}
	}
	if csrf == nil || !csrf.Secure || !csrf.HttpOnly || csrf.MaxAge <= 0 || csrf.MaxAge > 600 {
		t.Fatalf("csrf cookie: got %+v; want Secure, HttpOnly, expiring within 10 minutes", csrf)
	}
	// A handoff that is not one is refused at the route host's callback.
	resp, body := get(t, c, d.URL.String()+"/.pomerium/callback?pomerium_handoff=forged", map[string]string{"Cookie": "_pomerium_csrf=" + csrf.Value})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with a forged handoff: got %d %q; want 400", resp.StatusCode, body)
	}
	resp, _ = get(t, c, d.URL.String()+"/.pomerium/sign_in?return=/.pomerium/routes", nil)
	resp, _ = get(t, c, resp.Header.Get("Location"), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authenticate: got %d; want 302 to the provider", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(k) == "" {
			t.Errorf("authorize URL lacks %s: %s", k, loc)
		}
	}
	if got := q.Get("code_challenge_method"); got != "S256" {
		t.Errorf("code_challenge_method: got %q; want S256", got)
	}
	csrf = nil
	for _, ck := range resp.Cookies() {
		if ck.Name == "_pomerium_csrf" {
			csrf = ck
		}
	}
	if csrf == nil || csrf.Path != "/oauth2/callback" || !csrf.Secure || !csrf.HttpOnly {
		t.Fatalf("authenticate host's csrf cookie: got %+v; want Secure, HttpOnly, for /oauth2/callback", csrf)
	}
	// A callback with a forged state is refused.
	resp, body = get(t, c, d.URL.String()+"/oauth2/callback?code=x&state=forged", map[string]string{"Cookie": "_pomerium_csrf=" + csrf.Value})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with forged state: got %d %q; want 400", resp.StatusCode, body)
	}
	resp, body = get(t, c, d.URL.String()+"/oauth2/callback?code=x&state="+url.QueryEscape(q.Get("state")), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback without the csrf cookie: got %d %q; want 400", resp.StatusCode, body)
	}
}

func TestLoginAPI(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	c := apiClient(t, d)
	resp, body := get(t, c, d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{
		"Authorization": "Bearer Pomerium-" + tok, "Accept": "application/json"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("routes API with the login token: got %d %q; want 200", resp.StatusCode, body)
	}

	login := d.URL.String() + "/.pomerium/api/v1/login"
	for _, tc := range []struct {
		name, method, query string
		want                int
	}{
		{"loopback ip", "GET", "?pomerium_redirect_uri=" + url.QueryEscape("http://127.0.0.1:9999/"), 200},
		{"localhost https", "GET", "?pomerium_redirect_uri=" + url.QueryEscape("https://localhost:9999/cb"), 200},
		{"ipv6 loopback", "GET", "?pomerium_redirect_uri=" + url.QueryEscape("http://[::1]:9999/"), 200},
		{"missing", "GET", "", 404},
		{"evil host", "GET", "?pomerium_redirect_uri=" + url.QueryEscape("https://evil.example"), 400},
		{"evil lookalike", "GET", "?pomerium_redirect_uri=" + url.QueryEscape("http://127.0.0.1.evil.example/"), 400},
		{"unparsable", "GET", "?pomerium_redirect_uri=" + url.QueryEscape("http://[::1"), 400},
		{"scheme", "GET", "?pomerium_redirect_uri=" + url.QueryEscape("javascript://127.0.0.1/"), 400},
		{"relative", "GET", "?pomerium_redirect_uri=%2Fcb", 400},
		{"post", "POST", "?pomerium_redirect_uri=" + url.QueryEscape("http://127.0.0.1:9999/"), 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, login+tc.query, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("got %d; want %d", resp.StatusCode, tc.want)
			}
		})
	}

	// The sign-in endpoint re-checks the redirect: no open redirect there either.
	resp, _ = get(t, c, d.URL.String()+"/.pomerium/sign_in?pomerium_redirect_uri="+url.QueryEscape("https://evil.example/"), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("sign_in to evil.example: got %d; want 400", resp.StatusCode)
	}
	resp, _ = get(t, c, d.URL.String()+"/.pomerium/sign_in?return="+url.QueryEscape("//evil.example/"), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("sign_in return=//evil.example: got %d; want 400", resp.StatusCode)
	}
}

func TestRoutesAPIAuth(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	expired, err := d.Server().IssueToken(session.Claims{Subject: "x", Email: "dev@example.com"}, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	api := d.URL.String() + "/.pomerium/api/v1/routes"
	c := apiClient(t, d)
	for _, tc := range []struct {
		name string
		url  string
		hdr  map[string]string
		want int
	}{
		{"browser without session", api, nil, 302},
		{"json without session", api, map[string]string{"Accept": "application/json"}, 401},
		{"bad bearer", api, map[string]string{"Authorization": "Bearer Pomerium-garbage"}, 401},
		{"expired bearer", api, map[string]string{"Authorization": "Bearer Pomerium-" + expired}, 401},
		{"bearer", api, map[string]string{"Authorization": "Bearer Pomerium-" + tok}, 200},
		{"pomerium authorization", api, map[string]string{"Authorization": "Pomerium " + tok}, 200},
		{"x-pomerium-authorization", api, map[string]string{"X-Pomerium-Authorization": tok}, 200},
		{"cookie", api, map[string]string{"Cookie": "_pomerium=" + tok}, 200},
		{"query", api + "?pomerium_session=" + url.QueryEscape(tok), nil, 200},
		{"bad query", api + "?pomerium_session=garbage", nil, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, tc.url, tc.hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %q; want %d", resp.StatusCode, body, tc.want)
			}
			switch tc.want {
			case 401:
				if strings.TrimSpace(body) != `{"error":"Unauthenticated"}` {
					t.Errorf("401 body: got %q; want {\"error\":\"Unauthenticated\"}", body)
				}
			case 302:
				if !strings.Contains(resp.Header.Get("Location"), "/.pomerium/sign_in") {
					t.Errorf("302 Location: got %q; want the sign-in URL", resp.Header.Get("Location"))
				}
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, api, nil)
	req.Header.Set("Authorization", "Pomerium "+tok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST routes API: got %d; want 405", resp.StatusCode)
	}
}

func TestPortalDiffersPerUser(t *testing.T) {
	for _, tc := range []struct {
		email      string
		wantAdmin  bool
		wantAlways []string
	}{
		{"dev@example.com", true, []string{"echo", "verify", "public"}},
		{"guest@example.com", false, []string{"echo", "verify", "public"}},
	} {
		t.Run(tc.email, func(t *testing.T) {
			d := testutil.StartDevServer(t, testutil.AutoLogin(tc.email))
			tok := loginToken(t, d)
			resp, body := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{
				"Authorization": "Bearer Pomerium-" + tok, "Accept": "application/json"})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d %q; want 200", resp.StatusCode, body)
			}
			names := routeNames(t, body)
			if got := slices.Contains(names, "admin-echo"); got != tc.wantAdmin {
				t.Errorf("admin-echo listed: got %v; want %v (routes %v)", got, tc.wantAdmin, names)
			}
			for _, n := range tc.wantAlways {
				if !slices.Contains(names, n) {
					t.Errorf("route %q missing from %v", n, names)
				}
			}
			var r routesJSON
			decodeInto(t, body, &r)
			for _, e := range r.Routes {
				if e.Name == "echo" {
					want := "pomerium-cli tcp tcp+https://" + d.Addr + "/echo.internal:7000"
					if e.ConnectCommand != want {
						t.Errorf("echo connect_command: got %q; want %q", e.ConnectCommand, want)
					}
				}
			}
		})
	}
}

func TestRestartRejectsOldTokens(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	api := d.URL.String() + "/.pomerium/api/v1/routes"
	hdr := map[string]string{"Authorization": "Bearer Pomerium-" + tok, "Accept": "application/json"}
	if resp, _ := get(t, apiClient(t, d), api, hdr); resp.StatusCode != http.StatusOK {
		t.Fatalf("before restart: got %d; want 200", resp.StatusCode)
	}
	addr, ca := d.Addr, d.CAFile
	d.Restart(t)
	if d.Addr != addr || d.CAFile != ca {
		t.Fatalf("restart moved: got %s %s; want %s %s", d.Addr, d.CAFile, addr, ca)
	}
	if resp, _ := get(t, apiClient(t, d), api, hdr); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old token after restart: got %d; want 401", resp.StatusCode)
	}
	tok2 := loginToken(t, d)
	hdr["Authorization"] = "Bearer Pomerium-" + tok2
	if resp, _ := get(t, apiClient(t, d), api, hdr); resp.StatusCode != http.StatusOK {
		t.Errorf("new token after restart: got %d; want 200", resp.StatusCode)
	}
}

// TestDevRouteIDsSurviveRestart: the sample upstreams get new ports on
// every start, yet the portal ids stay the same (a portal import made
// before the restart must still match its routes).
func TestDevRouteIDsSurviveRestart(t *testing.T) {
	d := testutil.StartDevServer(t)
	ids := func() (map[string]string, string) {
		t.Helper()
		tok, err := d.Server().IssueToken(session.Claims{Subject: "u-dev", Email: "dev@example.com", Groups: []string{"admins"}}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/routes", map[string]string{
			"Authorization": "Bearer Pomerium-" + tok, "Accept": "application/json"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("routes API: got %d %q; want 200", resp.StatusCode, body)
		}
		var r routesJSON
		decodeInto(t, body, &r)
		out := map[string]string{}
		for _, e := range r.Routes {
			out[e.Name] = e.ID
		}
		return out, d.Server().Routes()[0].To[0].URL.Host
	}
	before, echoBefore := ids()
	d.Restart(t)
	after, echoAfter := ids()
	if echoBefore == echoAfter {
		t.Logf("the echo upstream happened to get the same port (%s) again", echoAfter)
	}
	for _, name := range []string{"echo", "admin-echo", "verify", "public"} {
		if before[name] == "" || before[name] != after[name] {
			t.Errorf("id of %s: got %q before and %q after a restart; want the same, non-empty", name, before[name], after[name])
		}
	}
}
