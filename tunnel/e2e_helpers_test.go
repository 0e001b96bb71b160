package tunnel_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

// browser stands in for a user's browser against a dev server with
// AutoLogin: a cookie-keeping client that follows every redirect, the
// last of which lands on the sign-in callback. It counts sign-ins.
type browser struct {
	pool  *x509.CertPool
	opens atomic.Int64
}

func (b *browser) open(ctx context.Context, u string) error {
	b.opens.Add(1)
	resp, _, err := testutil.Browse(ctx, b.pool, u)
	if err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browser: %s at %s", resp.Status, resp.Request.URL)
	}
	return nil
}

// newAuth is an Authenticator with a file cache in a temp dir and the
// fake browser.
func newAuth(t testing.TB, pool *x509.CertPool, b *browser) *authflow.Authenticator {
	t.Helper()
	return &authflow.Authenticator{
		Flow: &authflow.Flow{
			HTTPClient: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
			OpenURL:    b.open,
			Stderr:     io.Discard,
			Timeout:    2 * time.Minute,
		},
		Store: authflow.NewCache(authflow.CacheOptions{Dir: t.TempDir(), NoKeyring: true, Stderr: io.Discard}),
	}
}

// eventLog records events for assertions.
type eventLog struct {
	mu  sync.Mutex
	evs []tunnel.Event
}

func (l *eventLog) add(e tunnel.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, e)
	l.mu.Unlock()
}

func (l *eventLog) count(k tunnel.EventKind) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func (l *eventLog) all() []tunnel.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]tunnel.Event(nil), l.evs...)
}

// countingDialer counts TCP dials to the proxy.
func countingDialer(n *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// roundTrip sends msg through the tunnel at addr and returns the echo.
func roundTrip(addr string, msg []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return nil, err
	}
	return io.ReadAll(c)
}

// serveOne runs ServeConn on one end of a pipe and returns its error,
// for the connections the proxy refuses.
func serveOne(t testing.TB, tn *tunnel.Tunnel) error {
	t.Helper()
	a, b := net.Pipe()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return tn.ServeConn(ctx, a)
}

// target is a proxy the end-to-end tests run against: the real dev
// server, and the in-process fake.
type target struct {
	name    string
	Addr    string
	URL     *url.URL
	CAPool  *x509.CertPool
	restart func(testing.TB)
}

// targets starts the dev server signing in email, and the fake proxy.
// While the dev server cannot start (a part of it still unimplemented)
// its cases fail under PORTHOLE_STRICT=1 and are skipped otherwise.
func targets(t *testing.T, email string) []target {
	t.Helper()
	fp := startFakeProxy(t, true)
	ts := []target{{name: "fake", Addr: fp.Addr, URL: fp.URL, CAPool: fp.CAPool, restart: fp.Restart}}
	d, err := startDev(t, email)
	if err != nil {
		if os.Getenv("PORTHOLE_STRICT") == "1" {
			// Fail, but still run the fake's cases.
			t.Errorf("dev server: %v", err)
		}
		t.Logf("dev server unavailable, testing against the fake proxy only: %v", err)
		return ts
	}
	return append(ts, target{name: "dev", Addr: d.Addr, URL: d.URL, CAPool: d.CAPool, restart: d.Restart})
}

func startDev(t *testing.T, email string) (d *testutil.DevServer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("StartDevServer panicked: %v", r)
		}
	}()
	return testutil.StartDevServer(t, testutil.AutoLogin(email)), nil
}
