package testutil

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"testing"
)

// ChromiumTrust is the Chromium flag that accepts a certificate chain
// holding cert's key (the dev CA, which the dev server sends with its
// certificate, or a self-signed test server's certificate) and nothing
// else. Chromium has no flag to trust one CA file; this pin keeps
// verification on for every other certificate, where
// --ignore-certificate-errors would accept any. Chromium honours it only
// with --user-data-dir.
func ChromiumTrust(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "--ignore-certificate-errors-spki-list=" + base64.StdEncoding.EncodeToString(sum[:])
}

// CACert is the dev server's CA certificate, read from CAFile.
func (d *DevServer) CACert(t testing.TB) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(d.CAFile)
	if err != nil {
		t.Fatalf("reading the dev CA: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("dev CA %s: no PEM block", d.CAFile)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("dev CA %s: %v", d.CAFile, err)
	}
	return c
}
