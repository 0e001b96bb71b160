package proxydial_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/porthole-dev/porthole/internal/proxydial"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// systemCert is a server certificate under the fake system roots TestMain
// installs for every test of the package.
var systemCert tls.Certificate

func TestMain(m *testing.M) { os.Exit(testutil.MainWithSystemRoots(m, &systemCert)) }

// tlsServer accepts on loopback and completes TLS handshakes with cfg
// until the test ends.
func tlsServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return testutil.Serve(t, ln, func(c net.Conn) {
		defer c.Close()
		_ = c.(*tls.Conn).Handshake()
		_, _ = c.Read(make([]byte, 1))
	})
}

// Handshake trusts the extra CAs first and the system's roots only when
// the server's certificate did not verify against them, dialing again for
// that; a handshake neither verifies keeps the first error.
func TestHandshakeFallsBackToSystemRoots(t *testing.T) {
	extra, extraCert := testutil.LoopbackCA(t)
	_, strangerCert := testutil.LoopbackCA(t)
	cfg := func(roots *x509.CertPool, name string) *tls.Config {
		return &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12}
	}
	for _, tc := range []struct {
		name      string
		cert      tls.Certificate
		cfg       *tls.Config
		wantDials int
		wantErr   string
	}{
		{"under the extra CA", extraCert, cfg(extra.Pool, "127.0.0.1"), 1, ""},
		{"under a system root", systemCert, cfg(extra.Pool, "127.0.0.1"), 2, ""},
		{"system roots only", systemCert, cfg(nil, "127.0.0.1"), 1, ""},
		{"under neither", strangerCert, cfg(extra.Pool, "127.0.0.1"), 2, "certificate signed by unknown authority"},
		{"neither, no extra CA", strangerCert, cfg(nil, "127.0.0.1"), 1, "certificate signed by unknown authority"},
		{"extra CA, wrong name", extraCert, cfg(extra.Pool, "127.0.0.2"), 2, "not 127.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{tc.cert}})
			var dials []net.Conn
			tconn, err := proxydial.Handshake(t.Context(), tc.cfg, "proxy.test", func() (net.Conn, error) {
				c, err := net.Dial("tcp", addr)
				if err == nil {
					dials = append(dials, c)
				}
				return c, err
			})
			if len(dials) != tc.wantDials {
				t.Errorf("dials: %d; want %d", len(dials), tc.wantDials)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				tconn.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "TLS handshake with proxy.test: ") {
				t.Fatalf("handshake: %v; want %q from the first try, naming the peer", err, tc.wantErr)
			}
			for i, c := range dials {
				if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
					t.Errorf("connection %d of the failed handshake: write %v; want it closed", i, err)
				}
			}
		})
	}
}

// A Dialer remembers an address whose certificate needed the system's
// roots and goes straight to them, until the certificate changes back.
func TestDialerRemembersSystemRoots(t *testing.T) {
	extra, extraCert := testutil.LoopbackCA(t)
	var current atomic.Pointer[tls.Certificate]
	current.Store(&systemCert)
	addr := tlsServer(t, &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return current.Load(), nil }})
	dials := 0
	d := &proxydial.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials++
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}}
	cfg := &tls.Config{RootCAs: extra.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	for i, want := range []struct {
		cert  *tls.Certificate
		dials int
	}{
		{&systemCert, 2}, // the extra CA, then the system's roots
		{&systemCert, 1}, // straight to the system's roots
		{&extraCert, 2},  // the system's roots fail: the extra CA again
		{&extraCert, 1},
	} {
		current.Store(want.cert)
		dials = 0
		tc, err := d.TLS(t.Context(), addr, cfg, nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		tc.Close()
		if dials != want.dials {
			t.Errorf("dial %d: %d connections; want %d", i, dials, want.dials)
		}
	}
}

func TestAddr(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://proxy.example", "proxy.example:443"},
		{"http://proxy.example", "proxy.example:80"},
		{"HTTPS://proxy.example", "proxy.example:443"},
		{"http://proxy.example:3128", "proxy.example:3128"},
		{"https://[::1]", "[::1]:443"},
		{"http://user:pw@[::1]:3128", "[::1]:3128"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := proxydial.Addr(u); got != tc.want {
			t.Errorf("Addr(%s) = %q; want %q", tc.url, got, tc.want)
		}
	}
}
