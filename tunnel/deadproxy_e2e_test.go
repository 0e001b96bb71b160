package tunnel_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/tunnel"
)

// TestServerKilledMidTunnel runs the real pomerium-server binary, opens a
// tunnel through it, and kills the server mid-tunnel (SIGKILL, or SIGTERM:
// a shutdown cuts tunnels short too): the local application sees a
// connection reset, over HTTP/1.1 and HTTP/2, and the tunnel reports the
// failure.
func TestServerKilledMidTunnel(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	bin := testutil.BuildBinary(t, "pomerium-server")
	for _, tc := range []struct {
		name string
		h1   bool
		sig  os.Signal
	}{
		{"http1/SIGKILL", true, os.Kill},
		{"http2/SIGKILL", false, os.Kill},
		{"http1/SIGTERM", true, syscall.SIGTERM},
		{"http2/SIGTERM", false, syscall.SIGTERM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, p := startServerBinary(t, bin)
			log := &eventLog{}
			ln, err := tunnel.Listen(context.Background(), "127.0.0.1:0", tunnel.Config{
				Destination:  echoDest(t, p, "echo.internal:7000"),
				TLSConfig:    &tls.Config{RootCAs: p.CAPool},
				Auth:         newAuth(t, p.CAPool, &browser{pool: p.CAPool}),
				DisableHTTP2: tc.h1,
				OnEvent:      log.add,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Stop()
			c := dialEchoed(t, ln.Addr().String())
			defer c.Close()
			if err := srv.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(c)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("local read after the server was killed: %v; want a connection reset", err)
			}
			waitProxyEndedEvent(t, log)
		})
	}
}

// startServerBinary starts pomerium-server --dev on a free loopback port
// with auto-login and waits until it answers /healthz.
func startServerBinary(t *testing.T, bin string) (*exec.Cmd, target) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--dev", "--dev-dir", dir, "--address", addr, "--dev-auto-login", "dev@example.com")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var stderr testutil.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var pool *x509.CertPool
	waitFor(t, "healthy pomerium-server at "+addr, func() bool {
		pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil {
			return false
		}
		pool = x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		defer hc.CloseIdleConnections()
		resp, err := hc.Get("https://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return cmd, target{Addr: addr, CAPool: pool}
}
