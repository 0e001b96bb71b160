package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
)

// TestReloadCertificateAddressAndInFlight: a reload swaps the server
// certificate for new handshakes and moves the listener to a new
// address, while a request in flight on an unchanged route completes.
func TestReloadCertificateAddressAndInFlight(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{}, 1)
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	slow, _ := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-time.After(5 * time.Minute):
		}
		io.WriteString(w, "finished")
	}), nil)
	pki := newPKI(t, "reload CA")
	dir := t.TempDir()
	pair := func(name string) (string, string) {
		c, k := pemPair(t, pki.issue(name, []string{"*.localhost", "localhost"}, false))
		return writeFile(t, dir, name+".crt", c), writeFile(t, dir, name+".key", k)
	}
	oldCert, oldKey := pair("first")
	newCert, newKey := pair("second")
	addr1, addr2 := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cfgText := func(addr, cert, key string) string {
		return "address: " + addr + "\ncertificate_file: " + cert + "\ncertificate_key_file: " + key +
			"\nidp_provider_url: https://127.0.0.1:1/never\nidp_client_id: test\n" +
			"routes:\n  - from: https://slow.localhost\n    to: http://" + slow + "\n    allow_public_unauthenticated_access: true\n    timeout: 0s\n"
	}
	file := filepath.Join(dir, "config.yaml")
	os.WriteFile(file, []byte(cfgText(addr1, oldCert, oldKey)), 0o600)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr1)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s, err := server.New(server.Options{Config: cfg, ConfigFile: file, Address: addr1, AddressFromConfig: true, Logger: slogTo(logs)})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s, ln, logs)
	t.Cleanup(releaseAll) // runs first: held requests end before the shutdown
	certCN := func(addr string) (string, error) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pki.pool(), ServerName: "slow.localhost"})
		if err != nil {
			return "", err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
	}
	if cn, err := certCN(addr1); err != nil || cn != "first" {
		t.Fatalf("before reload: got %q, %v; want the first certificate", cn, err)
	}
	// A request in flight through an unchanged route.
	client := func(addr string) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool()},
			DialContext: func(ctx context.Context, n, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, n, addr)
			}}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	inFlight := make(chan string, 1)
	go func() {
		resp, err := client(addr1).Get("https://slow.localhost/")
		if err != nil {
			inFlight <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inFlight <- resp.Status + " " + string(b)
	}()
	select {
	case <-arrived: // the request is at the upstream: reload under it
	case <-time.After(2 * time.Minute):
		t.Fatal("the request never reached the upstream")
	}
	os.WriteFile(file+".tmp", []byte(cfgText(addr2, newCert, newKey)), 0o600)
	os.Rename(file+".tmp", file)
	pollUntil(t, 2*time.Minute, func() string {
		cn, err := certCN(addr2)
		if err != nil {
			return "new address: " + err.Error()
		}
		if cn != "second" {
			return "new address serves certificate " + cn + "; want second"
		}
		return ""
	})
	if _, err := certCN(addr1); err == nil {
		t.Error("the old address still accepts connections after the move")
	}
	releaseAll()
	select {
	case got := <-inFlight:
		if got != "200 OK finished" {
			t.Errorf("request in flight across the reload: got %q; want 200 OK finished", got)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the request in flight never finished")
	}
}
