package devidp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestAutoLoginDevHasAdmins(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AutoLogin = "dev@example.com" })
	verifier := oauth2.GenerateVerifier()
	// The authorize request must end at the client without any page.
	code := r.codeFrom(t, r.authorize(t, verifier, "state-auto"), "state-auto")
	_, idt, c := r.exchange(t, code, verifier)
	if c.Email != "dev@example.com" || c.Name != "Dev User" {
		t.Errorf("claims: got %+v; want dev@example.com / Dev User", c)
	}
	if want := []string{"admins"}; !slices.Equal(c.Groups, want) {
		t.Errorf("groups: got %v; want %v", c.Groups, want)
	}
	if idt.Subject != subjectFor("dev@example.com") {
		t.Errorf("sub: got %q; want %q", idt.Subject, subjectFor("dev@example.com"))
	}
}

func TestChooseDevOnPage(t *testing.T) {
	r := newRig(t, nil)
	verifier := oauth2.GenerateVerifier()
	page := readLoginPage(t, r.authorize(t, verifier, "s1"))
	code := r.codeFrom(t, r.choose(t, page, "dev@example.com"), "s1")
	_, _, c := r.exchange(t, code, verifier)
	if c.Email != "dev@example.com" || !slices.Equal(c.Groups, []string{"admins"}) {
		t.Errorf("claims: got email %q groups %v; want dev@example.com [admins]", c.Email, c.Groups)
	}
}

func TestWrongVerifierRejected(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AutoLogin = "guest@example.com" })
	code := r.codeFrom(t, r.authorize(t, oauth2.GenerateVerifier(), "s"), "s")
	_, err := r.oauth.Exchange(r.ctx(t), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("Exchange with another verifier: got %v; want invalid_grant", err)
	}
	_, err = r.oauth.Exchange(r.ctx(t), code)
	if err == nil {
		t.Fatal("Exchange without verifier: got success; want an error")
	}
}

func TestAuthorizeWithoutPKCERejected(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AutoLogin = "guest@example.com" })
	resp, err := r.http.Get(r.oauth.AuthCodeURL("s"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("got status %d without Location; want a redirect with an error", resp.StatusCode)
	}
	if got := loc.Query().Get("error"); got != "invalid_request" {
		t.Errorf("error: got %q; want invalid_request", got)
	}
	if loc.Query().Get("code") != "" {
		t.Error("a code was issued without PKCE")
	}
	if !strings.Contains(loc.Query().Get("error_description"), "PKCE") {
		t.Errorf("error_description %q does not mention PKCE", loc.Query().Get("error_description"))
	}
}

func TestUnregisteredRedirectURIRejected(t *testing.T) {
	r := newRig(t, nil)
	for name, uri := range map[string]string{
		"other host":   "https://evil.example/.pomerium/callback",
		"other path":   r.srv.URL + "/.pomerium/callback2",
		"extra query":  r.redirectURI + "?x=1",
		"trailing dot": strings.Replace(r.redirectURI, "127.0.0.1", "127.0.0.1.", 1),
	} {
		t.Run(name, func(t *testing.T) {
			cfg := r.oauth
			cfg.RedirectURL = uri
			var visited []string
			c := *r.http
			c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
				visited = append(visited, req.URL.String())
				if !strings.HasPrefix(req.URL.String(), r.issuer) {
					return http.ErrUseLastResponse
				}
				return nil
			}
			resp, err := c.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			for _, v := range visited {
				if !strings.HasPrefix(v, r.issuer) {
					t.Fatalf("redirected to %s; want no redirect outside the provider", v)
				}
			}
			if resp.StatusCode < 400 {
				t.Fatalf("got status %d; want an error status", resp.StatusCode)
			}
			if !strings.Contains(string(body), "redirect_uri") {
				t.Errorf("error body %q does not name the redirect_uri", body)
			}
		})
	}
}

func TestTokenEndpointClientAuth(t *testing.T) {
	tests := []struct {
		name   string
		style  oauth2.AuthStyle
		secret string
		ok     bool
	}{
		{"basic", oauth2.AuthStyleInHeader, testSecret, true},
		{"post", oauth2.AuthStyleInParams, testSecret, true},
		{"basic wrong secret", oauth2.AuthStyleInHeader, "nope", false},
		{"post wrong secret", oauth2.AuthStyleInParams, "nope", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(o *Options) { o.AutoLogin = "guest@example.com" })
			verifier := oauth2.GenerateVerifier()
			code := r.codeFrom(t, r.authorize(t, verifier, "s"), "s")
			cfg := r.oauth
			cfg.Endpoint.AuthStyle = tt.style
			cfg.ClientSecret = tt.secret
			_, err := cfg.Exchange(r.ctx(t), code, oauth2.VerifierOption(verifier))
			if (err == nil) != tt.ok {
				t.Fatalf("Exchange: got err %v; want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestDiscoveryEndpointsUnderIssuer(t *testing.T) {
	r := newRig(t, nil)
	resp, err := r.http.Get(r.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != r.issuer {
		t.Errorf("issuer: got %v; want %s", doc["issuer"], r.issuer)
	}
	// Each endpoint must be under the issuer and answer something other
	// than 404 (an unauthenticated GET gets 400/401/405 from most of them).
	for _, key := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint", "end_session_endpoint"} {
		t.Run(key, func(t *testing.T) {
			u, _ := doc[key].(string)
			if !strings.HasPrefix(u, r.issuer+"/") {
				t.Fatalf("got %q; want under %s/", u, r.issuer)
			}
			resp, err := r.http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				t.Fatalf("GET %s: got 404; want the endpoint to be served", u)
			}
		})
	}
	var jwks struct {
		Keys []struct {
			Kid, Alg, Use string
		} `json:"keys"`
	}
	jr, err := r.http.Get(doc["jwks_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Body.Close()
	if err := json.NewDecoder(jr.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "ES256" || jwks.Keys[0].Kid == "" {
		t.Errorf("jwks: got %+v; want one ES256 key with a kid", jwks.Keys)
	}
}

func TestSignInPageErrors(t *testing.T) {
	r := newRig(t, nil)
	page := readLoginPage(t, r.authorize(t, oauth2.GenerateVerifier(), "s"))
	tests := []struct {
		name     string
		form     url.Values
		wantText string
	}{
		{"unknown user", url.Values{"authRequestID": {page.id}, "email": {"mallory@example.com"}}, "unknown dev user"},
		{"empty user", url.Values{"authRequestID": {page.id}, "email": {""}}, "unknown dev user"},
		{"unknown request", url.Values{"authRequestID": {"nope"}, "email": {"dev@example.com"}}, "start the sign-in again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := r.http.PostForm(page.action, tt.form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("got status %d; want 400", resp.StatusCode)
			}
			if !strings.Contains(string(body), tt.wantText) {
				t.Errorf("body %q: want it to contain %q", body, tt.wantText)
			}
		})
	}
	// The request survives a bad choice: a good one still completes.
	r.codeFrom(t, r.choose(t, page, "guest@example.com"), "s")
}

func TestSignInPageEscapes(t *testing.T) {
	r := newRig(t, func(o *Options) {
		o.Users = []User{{Email: "x@example.com", Name: `<script>alert(1)</script>`, Groups: []string{`"><b>`}}}
	})
	page := readLoginPage(t, r.authorize(t, oauth2.GenerateVerifier(), "s"))
	if strings.Contains(page.body, "<script>") || strings.Contains(page.body, `"><b>`) {
		t.Fatalf("sign-in page does not escape user data: %s", page.body)
	}
	if !strings.Contains(page.body, "&lt;script&gt;") {
		t.Errorf("escaped name missing from page")
	}
}

func TestSignInRequestExpiresAndIsSingleUse(t *testing.T) {
	r := newRig(t, nil)
	clock := time.Now()
	r.p.store.mu.Lock()
	r.p.store.now = func() time.Time { return clock }
	r.p.store.mu.Unlock()

	page := readLoginPage(t, r.authorize(t, oauth2.GenerateVerifier(), "s"))
	r.codeFrom(t, r.choose(t, page, "guest@example.com"), "s")
	// Choosing again on the same request (back button, replay) is refused.
	resp := r.choose(t, page, "dev@example.com")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second choice on a finished request: got %d; want 400", resp.StatusCode)
	}

	page = readLoginPage(t, r.authorize(t, oauth2.GenerateVerifier(), "s2"))
	r.p.store.mu.Lock()
	clock = clock.Add(authRequestTTL + time.Minute)
	r.p.store.mu.Unlock()
	resp = r.choose(t, page, "guest@example.com")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "expired") {
		t.Errorf("choice on an expired request: got %d %q; want 400 naming expiry", resp.StatusCode, body)
	}
}

func TestUserinfoRejectsBadToken(t *testing.T) {
	r := newRig(t, nil)
	_, err := r.provider.UserInfo(r.ctx(t), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "forged", TokenType: "Bearer"}))
	if err == nil {
		t.Fatal("UserInfo with a forged token: got success; want an error")
	}
}
