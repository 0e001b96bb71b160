package testutil

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/porthole-dev/porthole/server/devca"
)

// FakeSystemRoots makes a new CA this process's only system root
// (SSL_CERT_FILE names its certificate, SSL_CERT_DIR an empty directory)
// and returns a server certificate for 127.0.0.1 and localhost that it
// signed, and a cleanup. Call it from TestMain before anything loads the
// system roots: Go loads them once per process. It lets a test show that
// a certificate under a system root verifies with no --alternate-ca-path,
// or with one naming another CA, without touching the machine's store.
func FakeSystemRoots() (tls.Certificate, func(), error) {
	dir, err := os.MkdirTemp("", "porthole-system-roots-")
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	ca, err := devca.LoadOrCreate(dir)
	if err != nil {
		cleanup()
		return tls.Certificate{}, nil, fmt.Errorf("system roots CA: %w", err)
	}
	cert, err := ca.ServerCert([]string{"127.0.0.1", "localhost"})
	if err != nil {
		cleanup()
		return tls.Certificate{}, nil, err
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		cleanup()
		return tls.Certificate{}, nil, err
	}
	os.Setenv("SSL_CERT_FILE", ca.CertFile)
	os.Setenv("SSL_CERT_DIR", empty)
	return cert, cleanup, nil
}

// MainWithSystemRoots is a TestMain body: it installs FakeSystemRoots,
// stores their server certificate in *cert, runs the tests and cleans
// up; the result is the exit code.
//
//	func TestMain(m *testing.M) { os.Exit(testutil.MainWithSystemRoots(m, &systemCert)) }
func MainWithSystemRoots(m *testing.M, cert *tls.Certificate) int {
	c, cleanup, err := FakeSystemRoots()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	*cert = c
	return m.Run()
}

// LoopbackCA is a new CA in a temporary directory and a server
// certificate for 127.0.0.1 it signed.
func LoopbackCA(t testing.TB) (*devca.CA, tls.Certificate) {
	t.Helper()
	ca, err := devca.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return ca, cert
}
