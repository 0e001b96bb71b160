package cmdutil

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/porthole-dev/porthole/authflow"
)

// TestPrefetchRoutes: the routes fetch after a login caches the list with
// the cached token, and never starts a sign-in when the token is refused.
func TestPrefetchRoutes(t *testing.T) {
	var accept atomic.Bool
	var logins atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/.pomerium/api/v1/login":
			logins.Add(1)
			http.Error(w, "no", http.StatusBadRequest)
		case r.URL.Path == "/.pomerium/api/v1/routes" && accept.Load() && r.Header.Get("Authorization") == "Bearer Pomerium-tok":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"routes":[{"id":"1","name":"echo","type":"tcp","from":"tcp+https://p/echo:1"}]}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	cache := authflow.NewCache(authflow.CacheOptions{Dir: t.TempDir(), NoKeyring: true})
	u, _ := ParseServerURL(srv.URL)
	if err := cache.Save(u.Host, "tok"); err != nil {
		t.Fatal(err)
	}
	f := &Factory{IO: &IOStreams{In: nil, Out: io.Discard, ErrOut: io.Discard}, ConfigDir: t.TempDir(), CacheDir: t.TempDir(), Tokens: cache,
		OpenURL: func(context.Context, string) error { t.Error("a browser was opened"); return nil }}
	f.Opts.TLS.CACert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	if err := f.PrefetchRoutes(context.Background(), u); err == nil {
		t.Error("prefetch with a refused token: no error; want one")
	}
	if n := logins.Load(); n != 0 {
		t.Errorf("the refused prefetch asked the login API %d times; want no sign-in", n)
	}
	if rs, _, _ := f.CachedRoutes(u); rs != nil {
		t.Errorf("cached %+v after a refusal; want nothing", rs)
	}
	accept.Store(true)
	if err := f.PrefetchRoutes(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if rs, _, _ := f.CachedRoutes(u); len(rs) != 1 || rs[0].Name != "echo" {
		t.Errorf("cached %+v; want the echo route", rs)
	}
}
