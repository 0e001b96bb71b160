package gui

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// writeCertKey writes a self-signed certificate and its key as PEM files
// in dir and returns their paths and the certificate's PEM.
func writeCertKey(t *testing.T, dir string) (certFile, keyFile, certPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "porthole test client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	certFile, keyFile = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, []byte(certPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, certPEM
}

// TestFormTLS: every TLS option of a connection can be set in the form,
// and a wrong one gets its message next to its own entry.
func TestFormTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, certPEM := writeCertKey(t, dir)
	missing := filepath.Join(dir, "nope.crt")
	for _, tc := range []struct {
		name                     string
		caFile, caPEM, cert, key string
		skipVerify               bool
		inDir                    bool   // typed relative to dir, the working directory
		wantField, wantMsg       string // empty: saves
		want                     tlsconfig.Options
	}{
		{name: "client cert and key files", cert: certFile, key: keyFile,
			want: tlsconfig.Options{ClientCertFile: certFile, ClientKeyFile: keyFile}},
		{name: "inline CA PEM", caPEM: certPEM, want: tlsconfig.Options{CACert: strings.TrimSpace(certPEM)}},
		{name: "CA file and skip verification", caFile: certFile, skipVerify: true,
			want: tlsconfig.Options{CAFile: certFile, DisableVerification: true}},
		{name: "relative files saved absolute", cert: "client.crt", key: "client.key", caFile: "client.crt", inDir: true,
			want: tlsconfig.Options{CAFile: certFile, ClientCertFile: certFile, ClientKeyFile: keyFile}},
		{name: "cert without key", cert: certFile, wantField: fieldClientKey, wantMsg: "needs its key"},
		{name: "key without cert", key: keyFile, wantField: fieldClientCert, wantMsg: "needs its certificate"},
		{name: "unreadable cert file", cert: missing, key: keyFile, wantField: fieldClientCert, wantMsg: missing},
		{name: "unreadable CA file", caFile: missing, wantField: connections.FieldTLS, wantMsg: missing},
		{name: "CA PEM garbage", caPEM: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----", wantField: fieldCACert, wantMsg: "no PEM certificate"},
		{name: "CA file and CA PEM", caFile: certFile, caPEM: certPEM, wantField: fieldCACert, wantMsg: "not both"},
		{name: "cert and key swapped", cert: keyFile, key: certFile, wantField: fieldClientCert, wantMsg: "client certificate and key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.inDir {
				t.Chdir(dir)
			}
			f := newFixture(t, nil)
			test.Tap(f.w.addBtn)
			form := f.w.form
			if form == nil {
				t.Fatal("tapping Add opened no form")
			}
			test.Type(form.name, "pg")
			test.Type(form.dest, "tcp+https://proxy.example.com/pg.internal:5432")
			for e, v := range map[*widgetEntry]string{form.caFile: tc.caFile, form.caPEM: tc.caPEM, form.clientCertFile: tc.cert, form.clientKeyFile: tc.key} {
				if v != "" {
					test.Type(e, v)
				}
			}
			if tc.skipVerify {
				test.Tap(form.skipVerify)
			}
			if tc.wantField == "" {
				if form.save.Disabled() {
					t.Fatalf("Save: got disabled; want enabled (error: %v)", form.validate())
				}
				test.Tap(form.save)
				f.q.drain()
				if f.w.form != nil {
					t.Errorf("after Save: got the form still open; want it closed")
				}
				if got := f.byName("pg").TLS; got != tc.want {
					t.Errorf("saved TLS: got %+v; want %+v", got, tc.want)
				}
				return
			}
			refuseSave(t, form, tc.wantField, tc.wantMsg)
			if list, _ := f.ctrl.Store.List(); len(list) != 0 {
				t.Errorf("store after a refused save: got %d connections; want 0", len(list))
			}
		})
	}
}

// TestFormAdvancedFolded: a new connection's form shows the essentials
// with TLS folded; editing one with TLS settings, or a TLS mistake,
// opens Advanced.
func TestFormAdvancedFolded(t *testing.T) {
	f := newFixture(t, nil)
	test.Tap(f.w.addBtn)
	if f.w.form.advanced.Items[0].Open {
		t.Errorf("add form: Advanced open; want it folded")
	}
	test.Type(f.w.form.clientCertFile, "/nonexistent/cert.pem")
	f.w.form.submit()
	if !f.w.form.advanced.Items[0].Open {
		t.Errorf("TLS mistake: Advanced still folded; want it open to show the message")
	}
	f.w.form.close()
	withTLS := newFixture(t, []connections.Connection{{Name: "pg", Destination: "tcp+https://proxy.example.com/pg.internal:5432", PomeriumURL: "https://proxy.example.com"}})
	withTLS.w.openForm(withTLS.byName("pg"), "Edit connection")
	if !withTLS.w.form.advanced.Items[0].Open {
		t.Errorf("editing a connection with a Pomerium URL: Advanced folded; want it open")
	}
}

// TestFormBrowse: the CA, certificate and key entries have Browse
// buttons that fill in the picked file.
func TestFormBrowse(t *testing.T) {
	f := newFixture(t, nil)
	test.Tap(f.w.addBtn)
	form := f.w.form
	if len(form.browseBtns) != 3 {
		t.Fatalf("Browse buttons: got %d; want 3 (CA file, client certificate, client key)", len(form.browseBtns))
	}
	for i, e := range []*widget.Entry{form.caFile, form.clientCertFile, form.clientKeyFile} {
		f.files.open = fmt.Sprintf("/picked/%d.pem", i)
		test.Tap(form.browseBtns[i])
		if e.Text != f.files.open {
			t.Errorf("Browse %d: entry %q; want %q", i, e.Text, f.files.open)
		}
	}
}
