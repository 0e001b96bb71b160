package devca

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("key mode: got %o; want 600", perm)
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Cert.Raw, b.Cert.Raw) {
		t.Error("second load made a new CA; want the same one reused")
	}
	if a.CertFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("CertFile: got %s; want <dir>/ca.pem", a.CertFile)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if len(left) > 0 {
		t.Errorf("temp files left behind: %v", left)
	}
}

func TestServerCertVerifies(t *testing.T) {
	ca, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert([]string{"localhost", "*.localhost", "127.0.0.1", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "verify.localhost", "127.0.0.1", "::1"} {
		t.Run(name, func(t *testing.T) {
			_, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool})
			if err != nil {
				t.Errorf("got %v; want the server cert valid for %s", err, name)
			}
		})
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: ca.Pool}); err == nil {
		t.Error("cert valid for example.com; want only loopback names")
	}
}

func TestBrokenCAIsAClearError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"garbage", map[string]string{"ca.pem": "nope", "ca-key.pem": "nope"}, "delete ca.pem and ca-key.pem"},
		{"key missing", map[string]string{"ca.pem": "nope"}, "delete ca.pem and ca-key.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tc.files {
				os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600)
			}
			_, err := LoadOrCreate(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error saying %q", err, tc.want)
			}
		})
	}
}
