package tlsconfig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// selfSigned returns a PEM cert and key valid for 127.0.0.1.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	return certPEM, keyPEM
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile, keyFile, junk := write("ca.pem", certPEM), write("key.pem", keyPEM), write("junk.pem", []byte("hello"))
	for _, tc := range []struct {
		name    string
		opts    tlsconfig.Options
		wantErr string
		check   func(t *testing.T, c *tls.Config)
	}{
		{name: "zero value", check: func(t *testing.T, c *tls.Config) {
			if c.InsecureSkipVerify || c.RootCAs != nil || c.MinVersion != tls.VersionTLS12 {
				t.Fatalf("got insecure=%v roots=%v min=%x; want verification with system roots, TLS 1.2+", c.InsecureSkipVerify, c.RootCAs != nil, c.MinVersion)
			}
		}},
		{name: "disable verification", opts: tlsconfig.Options{DisableVerification: true}, check: func(t *testing.T, c *tls.Config) {
			if !c.InsecureSkipVerify {
				t.Fatal("InsecureSkipVerify: got false; want true")
			}
		}},
		{name: "CA file", opts: tlsconfig.Options{CAFile: caFile}, check: trusts(certPEM, keyPEM)},
		{name: "CA cert PEM", opts: tlsconfig.Options{CACert: string(certPEM)}, check: trusts(certPEM, keyPEM)},
		{name: "CA cert base64", opts: tlsconfig.Options{CACert: base64.StdEncoding.EncodeToString(certPEM)}, check: trusts(certPEM, keyPEM)},
		{name: "client cert files", opts: tlsconfig.Options{ClientCertFile: caFile, ClientKeyFile: keyFile}, check: hasCert},
		{name: "client cert inline", opts: tlsconfig.Options{ClientCert: string(certPEM), ClientKey: string(keyPEM)}, check: hasCert},
		{name: "missing CA file", opts: tlsconfig.Options{CAFile: "/nonexistent/ca.pem"}, wantErr: "--alternate-ca-path /nonexistent/ca.pem: no such file or directory"},
		{name: "CA file without PEM", opts: tlsconfig.Options{CAFile: junk}, wantErr: "--alternate-ca-path " + junk + ": no PEM certificate"},
		{name: "CA cert garbage", opts: tlsconfig.Options{CACert: "%%%"}, wantErr: "--ca-cert: neither PEM nor base64 of PEM"},
		{name: "CA cert base64 of junk", opts: tlsconfig.Options{CACert: base64.StdEncoding.EncodeToString([]byte("junk"))}, wantErr: "--ca-cert: no PEM certificate"},
		{name: "cert without key", opts: tlsconfig.Options{ClientCertFile: caFile}, wantErr: "--client-cert is set but --client-key is not"},
		{name: "key without cert", opts: tlsconfig.Options{ClientKey: string(keyPEM)}, wantErr: "--client-key is set but --client-cert is not"},
		{name: "missing key file", opts: tlsconfig.Options{ClientCertFile: caFile, ClientKeyFile: "/nonexistent/key"}, wantErr: "--client-key /nonexistent/key: no such file"},
		{name: "mismatched pair", opts: tlsconfig.Options{ClientCertFile: caFile, ClientKeyFile: junk}, wantErr: "--client-cert/--client-key:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.opts.Config()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v; want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			tc.check(t, c)
		})
	}
}

// trusts checks the config verifies a real TLS server using that cert.
func trusts(certPEM, keyPEM []byte) func(t *testing.T, c *tls.Config) {
	return func(t *testing.T, c *tls.Config) {
		t.Helper()
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
		defer srv.Close()
		conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), c)
		if err != nil {
			t.Fatalf("handshake with a server using the given CA: %v", err)
		}
		conn.Close()
	}
}

func hasCert(t *testing.T, c *tls.Config) {
	if len(c.Certificates) != 1 {
		t.Fatalf("client certificates: got %d; want 1", len(c.Certificates))
	}
}

func TestAbs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	got, err := tlsconfig.Options{CAFile: "ca.pem", ClientCertFile: "/etc/c.pem", ClientKeyFile: "keys/k.pem", CACert: "inline"}.Abs()
	if err != nil {
		t.Fatal(err)
	}
	want := tlsconfig.Options{CAFile: filepath.Join(dir, "ca.pem"), ClientCertFile: "/etc/c.pem", ClientKeyFile: filepath.Join(dir, "keys/k.pem"), CACert: "inline"}
	if got != want {
		t.Errorf("Abs() = %+v; want %+v", got, want)
	}
	if got, _ := (tlsconfig.Options{}).Abs(); got != (tlsconfig.Options{}) {
		t.Errorf("Abs() of no files = %+v; want the zero Options", got)
	}
}

func TestFallback(t *testing.T) {
	certPEM, _ := selfSigned(t)
	withCA, err := tlsconfig.Options{CACert: string(certPEM)}.Config()
	if err != nil {
		t.Fatal(err)
	}
	insecure, err := tlsconfig.Options{CACert: string(certPEM), DisableVerification: true}.Config()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		want bool
	}{
		{"nil", nil, false},
		{"system roots already", &tls.Config{ServerName: "x"}, false},
		{"verification off", insecure, false},
		{"extra CAs", withCA, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fb := tlsconfig.Fallback(tc.cfg)
			if (fb != nil) != tc.want {
				t.Fatalf("Fallback = %v; want one: %v", fb, tc.want)
			}
			if got := tlsconfig.HasFallback(tc.cfg); got != tc.want {
				t.Fatalf("HasFallback = %v; want %v", got, tc.want)
			}
			if fb == nil {
				return
			}
			if fb.RootCAs != nil || fb.InsecureSkipVerify || fb.MinVersion != tc.cfg.MinVersion {
				t.Errorf("fallback: roots %v insecure %v min %x; want the system's roots, verification on, the same settings", fb.RootCAs, fb.InsecureSkipVerify, fb.MinVersion)
			}
			if tc.cfg.RootCAs == nil {
				t.Error("Fallback changed the config it was given")
			}
		})
	}
}

func TestVerifyFailed(t *testing.T) {
	cv := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{cv, true},
		{fmt.Errorf("TLS handshake with proxy: %w", cv), true},
		{errors.New("x509: certificate signed by unknown authority"), false},
		{io.EOF, false},
	} {
		if got := tlsconfig.VerifyFailed(tc.err); got != tc.want {
			t.Errorf("VerifyFailed(%v) = %v; want %v", tc.err, got, tc.want)
		}
	}
}

// systemCert is a server certificate under the fake system roots TestMain
// installs.
var systemCert tls.Certificate

func TestMain(m *testing.M) { os.Exit(testutil.MainWithSystemRoots(m, &systemCert)) }

// An extra CA replaces the system's roots in the config (so they are not
// loaded); Fallback's config brings them back.
func TestConfigTrustsTheExtraCAsAloneAndFallbackTheSystems(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{systemCert}}
	srv.StartTLS()
	defer srv.Close()
	dial := func(cfg *tls.Config) error {
		c, err := tls.Dial("tcp", srv.Listener.Addr().String(), cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	caPEM, _ := selfSigned(t)
	cfg, err := tlsconfig.Options{CACert: string(caPEM)}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(cfg); !tlsconfig.VerifyFailed(err) {
		t.Fatalf("handshake trusting another CA with a server under a system root: %v; want a verification error (the system's roots left out)", err)
	}
	if err := dial(tlsconfig.Fallback(cfg)); err != nil {
		t.Fatalf("handshake with the fallback config: %v; want it to trust the system's roots", err)
	}
	plain, err := tlsconfig.Options{}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(plain); err != nil {
		t.Fatalf("handshake with no extra CA: %v; want the system's roots", err)
	}
}
