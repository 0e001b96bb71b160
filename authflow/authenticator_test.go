package authflow_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
)

func newTestAuth(t *testing.T, ls *loginServer) *authflow.Authenticator {
	t.Helper()
	return &authflow.Authenticator{
		Flow: &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: io.Discard, Timeout: time.Minute,
			OpenURL: func(ctx context.Context, u string) error { return ls.browse(ctx, u) }},
		Store: authflow.NewCache(authflow.CacheOptions{Dir: t.TempDir(), NoKeyring: true}),
	}
}

// TestSignInSingleFlight: 50 callers at once, one login.
func TestSignInSingleFlight(t *testing.T) {
	ls := startLoginServer(t)
	a := newTestAuth(t, ls)
	const n = 50
	toks := make([]string, n)
	errs := make([]error, n)
	var notified sync.Map
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], errs[i] = a.SignIn(context.Background(), ls.URL, "", func(u string) { notified.Store(i, u) })
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || toks[i] == "" || toks[i] != toks[0] {
			t.Fatalf("caller %d: got %q, %v; want the shared token %q", i, toks[i], errs[i], toks[0])
		}
	}
	if got := ls.logins.Load(); got != 1 {
		t.Fatalf("logins: got %d; want 1", got)
	}
	if tok, _ := a.CachedToken(context.Background(), ls.URL); tok != toks[0] {
		t.Fatalf("cached: got %q; want the new token", tok)
	}
}

func TestSignInStale(t *testing.T) {
	ls := startLoginServer(t)
	a := newTestAuth(t, ls)
	ctx := context.Background()
	first, err := a.Token(ctx, ls.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another caller already replaced the token this one saw rejected.
	got, err := a.SignIn(ctx, ls.URL, "older-token", nil)
	if err != nil || got != first || ls.logins.Load() != 1 {
		t.Fatalf("stale older token: got %q, %v, %d logins; want the cached token, no login", got, err, ls.logins.Load())
	}
	// The cached token itself was rejected: it is dropped, one new login.
	second, err := a.SignIn(ctx, ls.URL, first, nil)
	if err != nil || second == first || ls.logins.Load() != 2 {
		t.Fatalf("stale cached token: got %q, %v, %d logins; want a new token from a second login", second, err, ls.logins.Load())
	}
}

func TestCachedTokenExpiry(t *testing.T) {
	u, _ := url.Parse("https://proxy.example.com")
	for _, tc := range []struct {
		name, tok, want string
	}{
		{"expired jwt dropped", jwtWithExp(time.Now().Add(-time.Minute), 1), ""},
		{"valid jwt kept", jwtWithExp(time.Now().Add(time.Hour), 2), jwtWithExp(time.Now().Add(time.Hour), 2)},
		{"opaque kept", "not-a-jwt", "not-a-jwt"},
		{"bad payload kept", "a.!!!.c", "a.!!!.c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := authflow.NewCache(authflow.CacheOptions{Dir: t.TempDir(), NoKeyring: true})
			if err := store.Save("proxy.example.com", tc.tok); err != nil {
				t.Fatal(err)
			}
			a := &authflow.Authenticator{Store: store}
			got, err := a.CachedToken(context.Background(), u)
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
			_, lerr := store.Load("proxy.example.com")
			if (tc.want == "") != errors.Is(lerr, authflow.ErrNotFound) {
				t.Fatalf("store after CachedToken: %v; want dropped=%v", lerr, tc.want == "")
			}
		})
	}
}

func TestServiceAccount(t *testing.T) {
	u, _ := url.Parse("https://proxy.example.com")
	a := &authflow.Authenticator{ServiceAccount: "sa-token"}
	if got, err := a.Token(context.Background(), u, nil); err != nil || got != "sa-token" {
		t.Fatalf("Token: got %q, %v; want the service account token", got, err)
	}
	_, err := a.SignIn(context.Background(), u, "sa-token", nil)
	if !errors.Is(err, authflow.ErrServiceAccountRejected) || !strings.Contains(err.Error(), "service account token rejected") {
		t.Fatalf("SignIn: got %v; want service account token rejected", err)
	}
}

func TestHostKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://Proxy.Example.com", "proxy.example.com"},
		{"https://proxy.example.com:443/x", "proxy.example.com"},
		{"https://proxy.example.com:8443", "proxy.example.com:8443"},
		{"https://[::1]:8443", "[::1]:8443"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			u, _ := url.Parse(tc.in)
			if got := authflow.HostKey(u); got != tc.want {
				t.Fatalf("got %q; want %q", got, tc.want)
			}
		})
	}
}

func TestNewHTTPClient(t *testing.T) {
	ls := startLoginServer(t)
	tr := ls.srv.Client().Transport.(*http.Transport)
	hc := authflow.NewHTTPClient(tr.TLSClientConfig)
	resp, err := hc.Get(ls.srv.URL + "/.pomerium/sign_in?redirect=http://127.0.0.1:1")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status: got %d; want 302 returned, not followed", resp.StatusCode)
	}
}
