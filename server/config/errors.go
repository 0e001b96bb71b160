package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/porthole-dev/porthole/internal/bounded"
)

// maxConfigBytes caps the config file: a file of thousands of routes is
// well under it; /dev/zero or a runaway generator is not.
const maxConfigBytes = 16 << 20

// ReadFile reads the config file at path: a regular file of at most
// 16 MiB, never blocking on a FIFO. Errors say how to fix the path.
func ReadFile(path string) ([]byte, error) {
	b, err := bounded.ReadFile(path, maxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", fileHint(err))
	}
	return b, nil
}

// readSmall reads a file a key names (certificates, keys, secrets,
// tokens): a regular file of at most 1 MiB.
func readSmall(path string) ([]byte, error) {
	b, err := bounded.ReadFile(path, 1<<20)
	if err != nil {
		return nil, fileHint(err)
	}
	return b, nil
}

// fileHint adds what to do to an error opening or reading a file.
func fileHint(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w (check the path; relative paths start at the server's working directory)", err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w (make it readable by the user the server runs as)", err)
	}
	return err
}

// yamlError turns a YAML syntax error into one line with a hint.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.Join(strings.Fields(msg), " ")
	hint := "check the indentation (spaces, lined up) and the quoting"
	switch {
	case strings.Contains(msg, "found character that cannot start any token"), strings.Contains(msg, "tab character"):
		hint = "YAML indents with spaces, never tabs; also quote values that start with @, ` or %"
	case strings.Contains(msg, "control characters are not allowed"):
		hint = "the file holds control characters or binary data; is it the config file?"
	case strings.Contains(msg, "unexpected end of stream") || strings.Contains(msg, "did not find expected"):
		hint = "a quote, bracket or brace is not closed"
	case strings.Contains(msg, "mapping values are not allowed"):
		hint = "put a space after each colon, and quote values that contain \": \""
	case strings.Contains(msg, "invalid leading UTF-8") || strings.Contains(msg, "invalid UTF-8"):
		hint = "save the file as UTF-8"
	}
	return fmt.Errorf("not valid YAML: %s (%s)", msg, hint)
}

// keyPairError explains a certificate/key pair that does not load:
// which setting (certWhat, keyWhat: the certificate's and the key's;
// pairWhat: both), what is wrong and what to give instead.
func keyPairError(certWhat, keyWhat, pairWhat string, err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) || errors.Is(err, bounded.ErrNotRegular) || errors.Is(err, bounded.ErrTooLarge) {
		return fmt.Errorf("%s: %w", pairWhat, fileHint(err))
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "in certificate input, but did find a private key"):
		return fmt.Errorf("%s: a private key, not a certificate; the certificate and key may be swapped", certWhat)
	case strings.Contains(msg, "failed to find any PEM data in certificate input"),
		strings.Contains(msg, "failed to find certificate PEM data"):
		return fmt.Errorf("%s: no PEM certificate in it; want the certificate chain as PEM (-----BEGIN CERTIFICATE-----)", certWhat)
	case strings.Contains(msg, "found a certificate rather than a key"):
		return fmt.Errorf("%s: a certificate, not a private key; give the private key's PEM (the two may be swapped)", keyWhat)
	case strings.Contains(msg, "failed to find") && strings.Contains(msg, "PRIVATE KEY"),
		strings.Contains(msg, "failed to find any PEM data in key input"):
		return fmt.Errorf("%s: no PEM private key in it; want -----BEGIN PRIVATE KEY----- (or EC/RSA PRIVATE KEY)", keyWhat)
	case strings.Contains(msg, "private key does not match public key"):
		return fmt.Errorf("%s: the private key does not belong to the certificate; give the key the certificate was issued for", pairWhat)
	case strings.Contains(msg, "failed to parse private key"):
		return fmt.Errorf("%s: not a PKCS#1, PKCS#8 or SEC 1 private key (encrypted? decrypt it: openssl pkey -in KEY -out KEY.pem)", keyWhat)
	case strings.Contains(msg, "x509:"):
		return fmt.Errorf("%s: the certificate does not parse (%s); want a PEM certificate chain", certWhat, oneLine(msg))
	}
	return fmt.Errorf("%s: %w (want a PEM certificate chain and its private key)", pairWhat, err)
}

// loadKeyPair reads a certificate file and its key file, bounded.
func loadKeyPair(certKey, keyKey, certFile, keyFile string) (tls.Certificate, error) {
	certWhat, keyWhat := certKey+" "+certFile, keyKey+" "+keyFile
	certPEM, err := readSmall(certFile)
	if err != nil {
		return tls.Certificate{}, keyPairError(certWhat, keyWhat, certKey, err)
	}
	keyPEM, err := readSmall(keyFile)
	if err != nil {
		return tls.Certificate{}, keyPairError(certWhat, keyWhat, keyKey, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, keyPairError(certWhat, keyWhat, certKey+"/"+keyKey, err)
	}
	return pair, nil
}
