// Package tlsconfig turns the user-facing TLS options shared by every front
// end (CLI flags, saved connections, the desktop app's forms) into a
// *tls.Config. Verification is on unless DisableVerification is set.
//
//	cfg, err := tlsconfig.Options{CAFile: "ca.pem"}.Config()
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/porthole-dev/porthole/internal/bounded"
)

// Options are the TLS settings a user can choose for talking to a proxy.
// The zero value means: system roots, verification on, no client cert.
type Options struct {
	// DisableVerification skips server certificate verification
	// (--disable-tls-verification).
	DisableVerification bool `json:"disable_tls_verification,omitempty"`
	// CAFile is a PEM file of extra roots (--alternate-ca-path).
	CAFile string `json:"ca_file,omitempty"`
	// CACert is PEM, or base64 of PEM as the real pomerium-cli's --ca-cert
	// takes it; both are accepted.
	CACert string `json:"ca_cert,omitempty"`
	// ClientCertFile and ClientKeyFile are PEM files (--client-cert,
	// --client-key). ClientCert and ClientKey hold inline PEM instead.
	ClientCertFile string `json:"client_cert_file,omitempty"`
	ClientKeyFile  string `json:"client_key_file,omitempty"`
	ClientCert     string `json:"client_cert,omitempty"`
	ClientKey      string `json:"client_key,omitempty"`
}

// Abs makes the file options absolute against the working directory, for
// options that are saved: the desktop app and the CLI run from other
// directories than the one the path was typed in.
func (o Options) Abs() (Options, error) {
	for _, p := range []*string{&o.CAFile, &o.ClientCertFile, &o.ClientKeyFile} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return o, fmt.Errorf("TLS file %s: %w", *p, err)
		}
		*p = abs
	}
	return o, nil
}

// Config builds the tls.Config. Errors name the option that was wrong.
//
// With extra CAs, RootCAs holds those alone, not the system's roots added
// to them: loading the system's roots costs 10-20 ms of every command (Go
// reads the bundle and then every file under /etc/ssl/certs), and a proxy
// with a private CA never needs them. A caller that dials retries a
// handshake whose verification failed with Fallback's config, which trusts
// the system's roots; see Fallback for why the two passes trust exactly
// what one pass over both sets would, which is what pomerium-cli trusts.
func (o Options) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.DisableVerification}
	if o.CAFile != "" || o.CACert != "" {
		pool := x509.NewCertPool()
		if o.CAFile != "" {
			b, err := readOption("--alternate-ca-path", o.CAFile)
			if err != nil {
				return nil, err
			}
			if !pool.AppendCertsFromPEM(b) {
				return nil, fmt.Errorf("--alternate-ca-path %s: no PEM certificate found in the file", o.CAFile)
			}
		}
		if o.CACert != "" {
			b, err := decodePEMOrBase64(o.CACert)
			if err != nil {
				return nil, fmt.Errorf("--ca-cert: %w", err)
			}
			if !pool.AppendCertsFromPEM(b) {
				return nil, errors.New("--ca-cert: no PEM certificate found (want PEM or base64 of PEM)")
			}
		}
		cfg.RootCAs = pool
	}
	cert, err := o.clientCert()
	if err != nil {
		return nil, err
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg, nil
}

// Fallback is the config to retry a handshake with when cfg's failed to
// verify the server's certificate against cfg.RootCAs: cfg with the
// system's roots instead. It is nil when there is nothing to fall back to
// (no RootCAs: the system's roots were used already; or verification off).
//
// Trying cfg.RootCAs and then the system's roots accepts exactly the chains
// one pass over both sets accepts: Go's verifier ends a chain at the first
// certificate it finds among the roots and never uses a root as an
// intermediate, so a chain that ends at an extra CA is found by the first
// pass, with the same intermediates, and one that ends at a system root by
// the second.
func Fallback(cfg *tls.Config) *tls.Config {
	if !HasFallback(cfg) {
		return nil
	}
	fb := cfg.Clone()
	fb.RootCAs = nil
	return fb
}

// HasFallback reports whether Fallback(cfg) is a config, without building
// it.
func HasFallback(cfg *tls.Config) bool {
	return cfg != nil && cfg.RootCAs != nil && !cfg.InsecureSkipVerify
}

// VerifyFailed reports whether a handshake error is a failed verification
// of the server's certificate: the one error Fallback's config may not
// repeat.
func VerifyFailed(err error) bool {
	var cv *tls.CertificateVerificationError
	return errors.As(err, &cv)
}

func (o Options) clientCert() (*tls.Certificate, error) {
	certPEM, keyPEM := []byte(o.ClientCert), []byte(o.ClientKey)
	var err error
	if o.ClientCertFile != "" {
		if certPEM, err = readOption("--client-cert", o.ClientCertFile); err != nil {
			return nil, err
		}
	}
	if o.ClientKeyFile != "" {
		if keyPEM, err = readOption("--client-key", o.ClientKeyFile); err != nil {
			return nil, err
		}
	}
	switch {
	case len(certPEM) == 0 && len(keyPEM) == 0:
		return nil, nil
	case len(keyPEM) == 0:
		return nil, errors.New("--client-cert is set but --client-key is not: give both")
	case len(certPEM) == 0:
		return nil, errors.New("--client-key is set but --client-cert is not: give both")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--client-cert/--client-key: %w", err)
	}
	return &cert, nil
}

// maxOptionFile caps a CA, certificate or key file.
const maxOptionFile = 1 << 20

// readOption reads the file an option names; errors read
// "--alternate-ca-path /x: no such file or directory".
func readOption(flag, path string) ([]byte, error) {
	b, err := bounded.ReadFileOrPipe(path, maxOptionFile)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s %s: %w", flag, path, pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return b, nil
}

// decodePEMOrBase64 accepts PEM as is, or base64 of PEM (how the real
// pomerium-cli takes --ca-cert).
func decodePEMOrBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		return []byte(s), nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("neither PEM nor base64 of PEM")
}
