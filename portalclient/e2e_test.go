package portalclient_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/portalclient"
)

// TestRoutesDevServer: against the dev server, the first call signs in
// (a plain HTTP client is the browser) and the second uses the cache.
func TestRoutesDevServer(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: d.CAPool}}}
	var opens atomic.Int64
	browse := func(ctx context.Context, u string) error {
		opens.Add(1)
		_, _, err := testutil.Browse(ctx, d.CAPool, u)
		return err
	}
	auth := &authflow.Authenticator{
		Flow:  &authflow.Flow{HTTPClient: hc, OpenURL: browse, Stderr: io.Discard, Timeout: time.Minute},
		Store: authflow.NewCache(authflow.CacheOptions{Dir: t.TempDir(), NoKeyring: true}),
	}
	c := &portalclient.Client{HTTPClient: hc, Auth: auth}
	for i := range 2 {
		routes, err := c.Routes(context.Background(), d.URL, nil)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		names := map[string]portalclient.Route{}
		for _, r := range routes {
			names[r.Name] = r
		}
		if e, ok := names["echo"]; !ok || e.Type != "tcp" || e.ConnectCommand == "" {
			t.Fatalf("call %d: routes %+v; want a tcp route named echo with a connect command", i, routes)
		}
		if got := opens.Load(); got != 1 {
			t.Fatalf("call %d: sign-ins: got %d; want 1", i, got)
		}
	}
}
