package gui

import (
	"errors"
	"strings"

	"github.com/porthole-dev/porthole/connections"
)

// Form-only field keys: connections.Validate reports every TLS problem as
// FieldTLS, but the form shows it next to the entry that has to change.
// FieldTLS itself stays the CA file's key.
const (
	fieldCACert     = "tls_ca_cert"
	fieldClientCert = "tls_client_cert"
	fieldClientKey  = "tls_client_key"
)

// validateForm is connections.Validate plus the TLS checks that need the
// files (readable, PEM, cert matching key), each mapped to its entry.
func validateForm(c connections.Connection) error {
	if err := tlsFieldErr(c); err != nil {
		return err
	}
	return connections.Validate(c)
}

func tlsFieldErr(c connections.Connection) error {
	o := c.TLS
	hasCert := o.ClientCertFile != "" || o.ClientCert != ""
	hasKey := o.ClientKeyFile != "" || o.ClientKey != ""
	switch {
	case hasCert && !hasKey:
		return &connections.FieldError{Field: fieldClientKey, Err: errors.New("a client certificate needs its key: give the key file too")}
	case hasKey && !hasCert:
		return &connections.FieldError{Field: fieldClientCert, Err: errors.New("a client key needs its certificate: give the certificate file too")}
	case o.CAFile != "" && o.CACert != "":
		return &connections.FieldError{Field: fieldCACert, Err: errors.New("give a CA file or an inline CA certificate, not both: clear one")}
	}
	if _, err := o.Config(); err != nil {
		return configFieldErr(err)
	}
	return nil
}

// configFieldErr maps a tlsconfig error, which names the CLI flag at
// fault, to the form entry of that option, in the form's words.
func configFieldErr(err error) error {
	msg := err.Error()
	for _, m := range []struct{ flag, field, words string }{
		{"--client-cert/--client-key", fieldClientCert, "client certificate and key"},
		{"--alternate-ca-path", connections.FieldTLS, "CA file"},
		{"--ca-cert", fieldCACert, "CA certificate"},
		{"--client-cert", fieldClientCert, "client certificate"},
		{"--client-key", fieldClientKey, "client key"},
	} {
		if rest, ok := strings.CutPrefix(msg, m.flag); ok {
			return &connections.FieldError{Field: m.field, Err: errors.New(m.words + rest)}
		}
	}
	return &connections.FieldError{Field: connections.FieldTLS, Err: err}
}

// inlineHint tells that a PEM is saved inline (from an import), which an
// empty file entry keeps.
func inlineHint(inline, placeholder string) string {
	if inline != "" {
		return "saved inline; a file here replaces it"
	}
	return placeholder
}
