// Package tlsconfig turns the user-facing TLS options shared by every front
// end (CLI flags, saved connections, the desktop app's forms) into a
// *tls.Config. Verification is on unless DisableVerification is set.
//
//	cfg, err := tlsconfig.Options{CAFile: "ca.pem"}.Config()
package tlsconfig

import (
	"crypto/tls"
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

// Config builds the tls.Config. Errors name the option that was wrong.
func (o Options) Config() (*tls.Config, error) {
	panic("tlsconfig: Config not implemented yet (owned by the client-library helper)")
}
