package server_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server/devidp"
	"github.com/porthole-dev/porthole/server/upstreams"
)

// recorder is a browser (cookie jar, follows redirects, *.localhost on
// loopback) that remembers every URL it requested and every Set-Cookie
// it was sent.
type recorder struct {
	*http.Client
	mu         sync.Mutex
	urls       []*url.URL
	setCookies []string
}

func (rc *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rc.Client.Transport.(*roundTripper).base.RoundTrip(r)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.urls = append(rc.urls, r.URL)
	if err == nil {
		rc.setCookies = append(rc.setCookies, resp.Header.Values("Set-Cookie")...)
	}
	return resp, err
}

type roundTripper struct {
	base http.RoundTripper
	rec  *recorder
}

func (t *roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return t.rec.RoundTrip(r) }

func newRecorder(t *testing.T, d *testutil.DevServer) *recorder {
	t.Helper()
	b := browser(t, d)
	rc := &recorder{Client: b}
	b.Transport = &roundTripper{base: b.Transport, rec: rc}
	return rc
}

// requests returns the URLs requested since mark and a new mark.
func (rc *recorder) since(mark int) ([]*url.URL, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*url.URL(nil), rc.urls[mark:]...), len(rc.urls)
}

func (rc *recorder) mark() int { _, m := rc.since(0); return m }

// authorizeRequests are the IdP authorization requests among urls.
func authorizeRequests(urls []*url.URL) []*url.URL {
	var out []*url.URL
	for _, u := range urls {
		if strings.HasSuffix(u.Path, "/dev-idp/authorize") {
			out = append(out, u)
		}
	}
	return out
}

func hostURL(d *testutil.DevServer, host string) string {
	_, port, _ := strings.Cut(d.Addr, ":")
	return "https://" + host + ":" + port
}

// TestOneRedirectURIAndSingleSignOn: a route host sends the browser to
// the authenticate host, whose /oauth2/callback is the only redirect URI
// the provider knows; the route host gets its own cookie from a handoff;
// a second host then signs in without asking the provider again.
func TestOneRedirectURIAndSingleSignOn(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	rc := newRecorder(t, d)
	resp, body := get(t, rc.Client, hostURL(d, "verify.localhost")+"/hello", nil)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Host != strings.Replace(d.Addr, "127.0.0.1", "verify.localhost", 1) {
		t.Fatalf("verify after sign-in: got %d at %s; want 200 back on verify.localhost", resp.StatusCode, resp.Request.URL)
	}
	var v upstreams.VerifyResponse
	decodeInto(t, body, &v)
	if v.Path != "/hello" || v.Headers["X-Pomerium-Claim-Email"][0] != "dev@example.com" {
		t.Errorf("upstream saw %s %v; want /hello as dev@example.com", v.Path, v.Headers["X-Pomerium-Claim-Email"])
	}
	urls, m := rc.since(0)
	auths := authorizeRequests(urls)
	if len(auths) != 1 {
		t.Fatalf("provider authorize requests: got %d; want 1", len(auths))
	}
	if got, want := auths[0].Query().Get("redirect_uri"), d.URL.String()+"/oauth2/callback"; got != want {
		t.Errorf("redirect_uri: got %q; want the authenticate host's %q", got, want)
	}
	var handoff *url.URL
	for _, u := range urls {
		if u.Query().Has("pomerium_handoff") {
			handoff = u
		}
		if u.Path == "/.pomerium/callback" && !u.Query().Has("pomerium_handoff") {
			t.Errorf("a route host callback without a handoff: %s", u)
		}
	}
	if handoff == nil || !strings.HasPrefix(handoff.Host, "verify.localhost:") {
		t.Fatalf("no handoff to verify.localhost among %v", urls)
	}

	// Second host: signed in through the authenticate host's session.
	resp, body = get(t, rc.Client, hostURL(d, "localhost")+"/.pomerium/routes", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "admin-echo") {
		t.Fatalf("portal on localhost: got %d; want 200 listing admin-echo", resp.StatusCode)
	}
	urls, _ = rc.since(m)
	if n := len(authorizeRequests(urls)); n != 0 {
		t.Errorf("second host asked the provider %d times; want 0 (single sign-on)", n)
	}

	// The handoff is single-use and for its host only.
	c := apiClient(t, d)
	resp, _ = get(t, c, handoff.String(), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed handoff: got %d; want 400", resp.StatusCode)
	}
	other := *handoff
	other.Host = strings.Replace(other.Host, "verify.localhost", "public.localhost", 1)
	resp, _ = get(t, c, other.String(), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("handoff on another host: got %d; want 400", resp.StatusCode)
	}
	// The authenticate host hands off only to hosts this server serves.
	resp, _ = get(t, c, d.URL.String()+"/.pomerium/authenticate?state=x&redirect_uri="+url.QueryEscape("https://evil.example/.pomerium/callback"), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("handoff to evil.example: got %d; want 400", resp.StatusCode)
	}
}

// TestCookieSmallAndOpaque: a user with 60 long groups signs in from a
// browser; every Set-Cookie stays under 4,096 bytes, the session cookie
// reveals nothing of the claims, and the upstream still sees every group.
func TestCookieSmallAndOpaque(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("groups@example.com"))
	rc := newRecorder(t, d)
	resp, body := get(t, rc.Client, hostURL(d, "verify.localhost")+"/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify after sign-in: got %d; want 200 (no redirect loop)", resp.StatusCode)
	}
	var v upstreams.VerifyResponse
	decodeInto(t, body, &v)
	if got := strings.Split(v.Headers["X-Pomerium-Claim-Groups"][0], ","); len(got) != 60 {
		t.Errorf("upstream groups: got %d; want 60", len(got))
	}
	rc.mu.Lock()
	cookies := append([]string(nil), rc.setCookies...)
	rc.mu.Unlock()
	sessions, largest := 0, 0
	for _, sc := range cookies {
		largest = max(largest, len(sc))
		if len(sc) >= 4096 {
			t.Errorf("Set-Cookie of %d bytes; want under 4096: %.80s...", len(sc), sc)
		}
		name, val, _ := strings.Cut(strings.Split(sc, ";")[0], "=")
		if name != "_pomerium" || val == "" {
			continue
		}
		sessions++
		t.Logf("session Set-Cookie: %d bytes (value %d)", len(sc), len(val))
		raw, _ := base64.RawURLEncoding.DecodeString(val)
		for _, leak := range []string{"groups@example.com", devidp.ManyGroups()[0], "Many Groups"} {
			if strings.Contains(val, leak) || strings.Contains(string(raw), leak) {
				t.Errorf("session cookie reveals %q", leak)
			}
		}
		if len(sc) > 400 {
			t.Errorf("session cookie of %d bytes; want a small reference", len(sc))
		}
	}
	t.Logf("%d Set-Cookie headers, the largest %d bytes", len(cookies), largest)
	if sessions < 2 {
		t.Errorf("session cookies set: got %d; want the authenticate host's and verify's", sessions)
	}
}

// TestSignOutEverywhere: sign-out on one host ends the session on every
// host and for the CLI token of it, and goes through the provider's
// end_session_endpoint with id_token_hint.
func TestSignOutEverywhere(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("guest@example.com"))
	rc := newRecorder(t, d)
	for _, u := range []string{hostURL(d, "verify.localhost") + "/", hostURL(d, "localhost") + "/.pomerium/routes"} {
		if resp, _ := get(t, rc.Client, u, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: got %d; want 200", u, resp.StatusCode)
		}
	}
	tok := loginTokenWith(t, d, rc.Client)
	api := d.URL.String() + "/.pomerium/api/v1/routes"
	if resp, _ := get(t, apiClient(t, d), api, map[string]string{"Authorization": "Pomerium " + tok}); resp.StatusCode != http.StatusOK {
		t.Fatalf("CLI token before sign-out: got %d; want 200", resp.StatusCode)
	}
	m := rc.mark()
	resp, err := rc.Post(hostURL(d, "verify.localhost")+"/.pomerium/sign_out", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/.pomerium/signed_out" {
		t.Errorf("sign-out ended at %d %s; want 200 /.pomerium/signed_out", resp.StatusCode, resp.Request.URL)
	}
	urls, _ := rc.since(m)
	var end *url.URL
	for _, u := range urls {
		if strings.HasSuffix(u.Path, "/end_session") {
			end = u
		}
	}
	if end == nil || end.Query().Get("id_token_hint") == "" || end.Query().Get("post_logout_redirect_uri") != d.URL.String()+"/.pomerium/signed_out" {
		t.Errorf("end_session request: got %v; want one with id_token_hint and post_logout_redirect_uri", end)
	}
	if n := d.Server().DevIdP().SignOuts("guest@example.com"); n != 1 {
		t.Errorf("provider sign-outs: got %d; want 1", n)
	}
	noFollow := *rc.Client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, u := range []string{hostURL(d, "verify.localhost") + "/", hostURL(d, "localhost") + "/.pomerium/routes", d.URL.String() + "/.pomerium/routes"} {
		if resp, _ := get(t, &noFollow, u, nil); resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "sign_in") {
			t.Errorf("%s after sign-out: got %d %q; want 302 to sign in", u, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, _ := get(t, apiClient(t, d), api, map[string]string{"Authorization": "Pomerium " + tok}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("CLI token after sign-out: got %d; want 401", resp.StatusCode)
	}
}

// TestLogoutAPIRevokesOneToken: POST /.pomerium/api/v1/logout (what
// `pomerium-cli logout` calls) revokes that token on the server; the
// browser session it shares stays.
func TestLogoutAPIRevokesOneToken(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	b := browser(t, d)
	tok := loginTokenWith(t, d, b)
	c := apiClient(t, d)
	logout := func(tok string) int {
		req, _ := http.NewRequest(http.MethodPost, d.URL.String()+"/.pomerium/api/v1/logout", nil)
		req.Header.Set("Authorization", "Pomerium "+tok)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := logout(tok); got != http.StatusNoContent {
		t.Fatalf("logout: got %d; want 204", got)
	}
	api := d.URL.String() + "/.pomerium/api/v1/routes"
	if resp, _ := get(t, c, api, map[string]string{"Authorization": "Pomerium " + tok}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token after logout: got %d; want 401", resp.StatusCode)
	}
	if resp, _ := get(t, b, d.URL.String()+"/.pomerium/routes", nil); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/.pomerium/routes" {
		t.Errorf("browser session after the CLI logout: got %d at %s; want 200", resp.StatusCode, resp.Request.URL)
	}
	if got := logout("garbage"); got != http.StatusUnauthorized {
		t.Errorf("logout with a bad token: got %d; want 401", got)
	}
}

// TestSessionFollowsTheProvider: sessions refresh at the provider before
// its tokens expire; once the user is disabled there, the browser cookie
// and the CLI token are both refused within the token lifetime.
func TestSessionFollowsTheProvider(t *testing.T) {
	const ttl = 3 * time.Second
	d := testutil.StartDevServer(t, testutil.AutoLogin("guest@example.com"), testutil.TokenTTL(ttl))
	b := browser(t, d)
	tok := loginTokenWith(t, d, b)
	verify := hostURL(d, "verify.localhost") + "/"
	if resp, _ := get(t, b, verify, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: got %d; want 200", resp.StatusCode)
	}
	noFollow := *b
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	api := d.URL.String() + "/.pomerium/api/v1/routes"
	c := apiClient(t, d)
	// Well past the first tokens' expiry the session still works: it was
	// refreshed (without a refresh it would have ended).
	pace := time.NewTicker(ttl / 6)
	defer pace.Stop()
	deadline := time.Now().Add(3 * ttl)
	for time.Now().Before(deadline) {
		if resp, _ := get(t, &noFollow, verify, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("verify while the user is enabled: got %d; want 200 (refreshed)", resp.StatusCode)
		}
		if resp, _ := get(t, c, api, map[string]string{"Authorization": "Pomerium " + tok}); resp.StatusCode != http.StatusOK {
			t.Fatalf("CLI token while the user is enabled: got %d; want 200", resp.StatusCode)
		}
		<-pace.C
	}
	if err := d.Server().DevIdP().SetDisabled("guest@example.com", true); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(2*time.Minute + 2*ttl)
	for {
		resp, _ := get(t, &noFollow, verify, nil)
		if resp.StatusCode == http.StatusFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser still allowed %s after disabling the user", time.Since(deadline.Add(-2*time.Minute-2*ttl)))
		}
		<-pace.C
	}
	if resp, _ := get(t, c, api, map[string]string{"Authorization": "Pomerium " + tok}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("CLI token after the user was disabled: got %d; want 401", resp.StatusCode)
	}
}

// loginTokenWith runs the programmatic login with browser b (its cookies
// decide whether the provider is asked).
func loginTokenWith(t *testing.T, d *testutil.DevServer, b *http.Client) string {
	t.Helper()
	redirect := "http://127.0.0.1:9/cb"
	resp, body := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/login?pomerium_redirect_uri="+url.QueryEscape(redirect), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login API: got %d %q", resp.StatusCode, body)
	}
	nb := *b
	var tok string
	nb.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == "127.0.0.1:9" {
			tok = r.URL.Query().Get("pomerium_jwt")
			return http.ErrUseLastResponse
		}
		return nil
	}
	get(t, &nb, strings.TrimSpace(body), nil)
	if tok == "" {
		t.Fatal("the sign-in never reached the loopback callback with pomerium_jwt")
	}
	return tok
}
