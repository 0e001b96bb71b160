package servercmd

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

// selfSigned writes a certificate and its key as PEM files in dir.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestConfigErrorsAreOneLineWithAHint: pomerium-server refuses bad
// config input (YAML, keys, values, PPL, certificate files, the config
// path itself, a port in use) with exit 1 and one stderr line that names
// what is wrong and says what to do, with nothing from the file printed
// raw, and never waits on a FIFO or reads a device to its end.
func TestConfigErrorsAreOneLineWithAHint(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "server")
	otherCert, otherKey := selfSigned(t, dir, "other")
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	head := func(certFile, keyFile string) string {
		return "certificate_file: " + certFile + "\ncertificate_key_file: " + keyFile +
			"\nidp_provider_url: https://idp.example.com\nidp_client_id: x\nshared_secret: " + secret +
			"\ndatabroker_storage_type: memory\n"
	}
	h := head(cert, key)
	route := "routes:\n  - from: https://a.localhost\n    to: http://127.0.0.1:1\n"
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if f, err := os.Create(big); err != nil {
		t.Fatal(err)
	} else {
		f.Truncate(17 << 20) // sparse: nothing written
		f.Close()
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	for _, tc := range []struct {
		name string
		yml  string   // written to a file and checked with config check
		args []string // instead of yml: the command line
		env  map[string]string
		what string // names what is wrong
		hint string // says what to do
	}{
		// YAML
		{name: "tab indentation", yml: h + route + "\tname: x\n", what: "not valid YAML: line", hint: "never tabs"},
		{name: "unclosed bracket", yml: h + "idp_scopes: [openid, email\n", what: "not valid YAML", hint: "not closed"},
		{name: "unclosed quote", yml: h + "address: \"127.0.0.1:443\n", what: "not valid YAML", hint: "not closed"},
		{name: "colon in a value", yml: h + "address: a: b\n", what: "mapping values are not allowed", hint: "space after each colon"},
		{name: "binary", yml: "\x7fELF\x02\x01\x01\x00\x00\x00garbage", what: "not valid YAML", hint: "control characters or binary data"},
		{name: "NUL in a value", yml: h + "address: a\x00b\n", what: "not valid YAML", hint: "binary data"},
		{name: "two documents", yml: h + "---\naddress: x\n", what: "more than one YAML document", hint: "keep one"},
		{name: "a list, not a map", yml: "- address: x\n", what: "got a list", hint: "key: value lines"},
		{name: "key set twice", yml: h + "address: :443\naddress: :8443\n", what: `key "address" set twice`, hint: "keep one"},
		{name: "very deep nesting", yml: h + "x: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", what: "not valid YAML", hint: "check"},
		{name: "merge key", yml: "<<: {address: x}\n", what: "merge keys", hint: "write the settings out"},
		// Keys
		{name: "typo", yml: h + "adress: :443\n", what: `unknown key "adress" at line 7`, hint: `did you mean "address"?`},
		{name: "dashes", yml: h + "cookie-expire: 1h\n", what: `unknown key "cookie-expire"`, hint: `did you mean "cookie_expire"?`},
		{name: "upper case", yml: h + "ADDRESS: :443\n", what: `unknown key "ADDRESS"`, hint: `did you mean "address"?`},
		{name: "nothing like it", yml: h + "frobnicate: 1\n", what: `unknown key "frobnicate"`, hint: "allowed: address"},
		{name: "route key typo", yml: h + route + "    allow_websocket: true\n", what: `unknown key "allow_websocket"`, hint: `did you mean "allow_websockets"?`},
		{name: "escape in a key", yml: h + "\"adr\\e]52;c;ZXZpbA==\\aess\": 1\n", what: `unknown key "adr\x1b]52`, hint: "allowed:"},
		{name: "escape in a from", yml: h + "routes:\n  - from: \"ftp://a\\e[2J\"\n    to: http://127.0.0.1:1\n", what: `from: not a URL: "ftp://a\x1b[2J"`, hint: "want https://host"},
		{name: "unsupported Pomerium key", yml: h + "autocert: true\n", what: "not supported by pomerium-server: autocert", hint: "use certificates"},
		// Values
		{name: "short secret", yml: strings.Replace(h, secret, "c2hvcnQ=", 1), what: "shared_secret", hint: "head -c32 /dev/urandom | base64"},
		{name: "bad duration", yml: h + "cookie_expire: forever\n", what: "cookie_expire", hint: "like 30s, 5m or 14h"},
		{name: "bad address", yml: h + "address: nonsense\n", what: `address: want host:port, got "nonsense"`, hint: "e.g. :443"},
		{name: "negative max", yml: h + "max_connections: -5\n", what: "max_connections", hint: "from 1 to"},
		{name: "bad bool", yml: h + route + "    allow_websockets: yes please\n", what: "allow_websockets", hint: "want true or false"},
		{name: "bad from scheme", yml: h + "routes:\n  - from: ftp://a\n    to: http://127.0.0.1:1\n", what: "from: scheme must be", hint: "https, tcp+https or udp+https"},
		{name: "bad to", yml: h + "routes:\n  - from: https://a.localhost\n    to: \"http://[::1\"\n", what: "to: not a URL", hint: "e.g. http://127.0.0.1:8080"},
		{name: "same from twice", yml: h + route + "  - from: https://a.localhost\n    to: http://127.0.0.1:2\n", what: "the same from", hint: "merge them or change one"},
		{name: "bad regex", yml: h + route + "    regex: \"([\"\n", what: "regex: not a valid regular expression", hint: "RE2"},
		{name: "no provider", yml: "certificate_file: " + cert + "\ncertificate_key_file: " + key + "\n", what: "idp_provider_url and idp_client_id are required", hint: "--dev"},
		// PPL
		{name: "PPL criterion typo", yml: h + route + "    policy:\n      allow:\n        or:\n          - emial:\n              is: a@example.com\n", what: `unknown or unsupported criterion "emial"`, hint: "allowed: accept"},
		{name: "PPL conditional", yml: h + route + "    policy:\n      allow:\n        xor: []\n", what: `unknown conditional "xor"`, hint: "allowed: and, or, not, nor"},
		{name: "PPL matcher", yml: h + route + "    policy:\n      allow:\n        or:\n          - email:\n              like: x\n", what: `unknown string matcher "like"`, hint: "allowed: is"},
		{name: "PPL action", yml: h + route + "    policy:\n      allw:\n        or: []\n", what: `unknown action "allw"`, hint: "allowed: allow, deny"},
		{name: "PPL as a sentence", yml: h + route + "    policy: \"allow everyone\"\n", what: "a policy is a map of allow/deny rules", hint: "e.g. allow:"},
		{name: "bad value from the environment", yml: h, env: map[string]string{"COOKIE_EXPIRE": "forever"}, what: `cookie_expire: want a duration like 30s, 5m or 14h, got "forever"`, hint: "comes from the environment variable COOKIE_EXPIRE"},
		// Certificate files
		{name: "certificate missing", yml: head(filepath.Join(dir, "nope.pem"), key), what: "nope.pem: no such file", hint: "check the path"},
		{name: "certificate is a directory", yml: head(dir, key), what: "is a directory", hint: "give the path of a file"},
		{name: "certificate is a device", yml: head("/dev/zero", key), what: "/dev/zero is a character device", hint: "give the path of a file"},
		{name: "certificate is a FIFO", yml: head(fifo, key), what: "is a FIFO", hint: "give the path of a file"},
		{name: "certificate is not PEM", yml: head(filepath.Join(dir, "garbage.pem"), key), what: "certificate_file " + filepath.Join(dir, "garbage.pem") + ": no PEM certificate", hint: "-----BEGIN CERTIFICATE-----"},
		{name: "key is a certificate", yml: head(cert, cert), what: "certificate_key_file " + cert + ": a certificate, not a private key", hint: "may be swapped"},
		{name: "key of another certificate", yml: head(cert, otherKey), what: "the private key does not belong to the certificate", hint: "the key the certificate was issued for"},
		{name: "certificate and key swapped", yml: head(key, cert), what: "certificate_file " + key + ": a private key, not a certificate", hint: "may be swapped"},
		{name: "certificate only", yml: strings.Replace(head(otherCert, key), "certificate_key_file: "+key+"\n", "", 1), what: "certificate_file and certificate_key_file", hint: "set both"},
		{name: "certificate_authority_file not PEM", yml: h + "certificate_authority_file: " + filepath.Join(dir, "garbage.pem") + "\n", what: "certificate_authority", hint: "PEM"},
		// The config path itself
		{name: "config missing", args: []string{"config", "check", filepath.Join(dir, "none.yaml")}, what: "none.yaml: no such file", hint: "check the path"},
		{name: "config is a directory", args: []string{"config", "check", dir}, what: "is a directory", hint: "give the path of a file"},
		{name: "config is a device", args: []string{"config", "check", "/dev/zero"}, what: "is a character device", hint: "give the path of a file"},
		{name: "config is a FIFO", args: []string{"config", "check", fifo}, what: "is a FIFO", hint: "give the path of a file"},
		{name: "config too large", args: []string{"config", "check", big}, what: "too large", hint: "the limit is"},
		// Serving
		{name: "port in use", yml: h + "address: " + busy.Addr().String() + "\n", args: []string{"--config"}, what: "address already in use", hint: "stop it or choose another address"},
		{name: "metrics port in use", yml: h + "metrics_address: " + busy.Addr().String() + "\n", args: []string{"--address", "127.0.0.1:0", "--config"}, what: "metrics_address " + busy.Addr().String(), hint: "choose another metrics_address"},
		{name: "data_dir not writable", yml: strings.Replace(h, "databroker_storage_type: memory\n", "data_dir: /proc/porthole-nope\n", 1), args: []string{"--address", "127.0.0.1:0", "--config"}, what: "creating the data directory", hint: "set data_dir or --data-dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if err := os.WriteFile(filepath.Join(dir, "garbage.pem"), []byte("not a certificate\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args := tc.args
			if tc.yml != "" {
				file := filepath.Join(t.TempDir(), "config.yaml")
				if err := os.WriteFile(file, []byte(tc.yml), 0o600); err != nil {
					t.Fatal(err)
				}
				if args == nil {
					args = []string{"config", "check", file}
				} else {
					args = append(args, file)
				}
			}
			var out, stderr bytes.Buffer
			code := make(chan int, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { code <- Run(ctx, NewFactory(nil, &out, &stderr), args) }()
			var got int
			select {
			case got = <-code:
			case <-time.After(2 * time.Minute):
				cancel()
				t.Fatalf("pomerium-server %v did not finish in 2m (a blocking read?)", args)
			}
			msg := stderr.String()
			if got != ExitError {
				t.Errorf("exit code %d; want %d (stderr %q)", got, ExitError, msg)
			}
			if args[0] != "config" {
				// Serving logs (time=... lines) before it fails; the error
				// is the last line, and the only one of its kind.
				lines := strings.SplitAfter(strings.TrimSuffix(msg, "\n"), "\n")
				if last := lines[len(lines)-1]; strings.Count(msg, "pomerium-server: ") == 1 {
					msg = last + "\n"
				}
			}
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "pomerium-server: ") {
				t.Errorf("stderr %q; want one line starting pomerium-server:", msg)
			}
			if err := termtest.Check(msg, false); err != nil {
				t.Errorf("stderr would drive a terminal: %v: %q", err, msg)
			}
			if !strings.Contains(msg, termtext.Escape(tc.what)) {
				t.Errorf("stderr %q; want it to name what is wrong: %q", msg, tc.what)
			}
			if !strings.Contains(msg, tc.hint) {
				t.Errorf("stderr %q; want the hint %q", msg, tc.hint)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q; want nothing", out.String())
			}
		})
	}
}
