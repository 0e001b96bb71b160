package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/session"
)

// testPKI is a private CA for a test: server and client certificates.
type testPKI struct {
	t    *testing.T
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	PEM  []byte
}

func newPKI(t *testing.T, name string) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testPKI{t: t, cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a leaf for names (DNS names or IPs); client for a client
// certificate.
func (p *testPKI) issue(cn string, names []string, client bool) tls.Certificate {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func (p *testPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.cert)
	return pool
}

// pemPair is cert and key PEM.
func pemPair(t *testing.T, c tls.Certificate) ([]byte, []byte) {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// routeEnv is a configured (non --dev) server from a YAML file, serving
// *.localhost with a certificate from its own CA.
type routeEnv struct {
	t      *testing.T
	dir    string
	pki    *testPKI
	srv    *server.Server
	addr   string // 127.0.0.1:port
	port   string
	file   string
	client *http.Client // trusts the CA, does not follow redirects
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// header is the top of every test config: the server certificate, an
// identity provider that is never reached (routes are public or take a
// minted token) and a fixed secret.
func (e *routeEnv) header() string {
	certPEM, keyPEM := pemPair(e.t, e.pki.issue("server", []string{"localhost", "*.localhost", "127.0.0.1"}, false))
	return "certificate_file: " + writeFile(e.t, e.dir, "server.pem", certPEM) + "\n" +
		"certificate_key_file: " + writeFile(e.t, e.dir, "server.key", keyPEM) + "\n" +
		"idp_provider_url: https://127.0.0.1:1/never\nidp_client_id: test\n" +
		"shared_secret: " + b64(bytes.Repeat([]byte{9}, 32)) + "\n"
}

// startRoutes runs the server on yml (appended to the header).
func startRoutes(t *testing.T, yml string) *routeEnv {
	t.Helper()
	e := &routeEnv{t: t, dir: t.TempDir(), pki: newPKI(t, "porthole test CA"), logs: &syncBuffer{}}
	e.start(e.header() + yml)
	return e
}

// startRaw runs the server on yml as is and returns its address.
func startRaw(t *testing.T, yml string) string {
	t.Helper()
	e := &routeEnv{t: t, dir: t.TempDir(), logs: &syncBuffer{}}
	e.start(yml)
	return e.addr
}

func (e *routeEnv) start(yml string) {
	t := e.t
	t.Helper()
	e.file = filepath.Join(e.dir, "config.yaml")
	if err := os.WriteFile(e.file, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(e.file)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	_, e.port, _ = net.SplitHostPort(e.addr)
	log := slogTo(e.logs)
	e.srv, err = server.New(server.Options{Config: cfg, ConfigFile: e.file, Address: e.addr, Logger: log})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	serve(t, e.srv, ln, e.logs)
	if e.pki != nil {
		e.client = e.newClient(nil)
	}
}

// newClient trusts the server's CA, maps *.localhost to 127.0.0.1 and
// does not follow redirects; cert, when set, is offered as the client
// certificate.
func (e *routeEnv) newClient(cert *tls.Certificate) *http.Client {
	tc := &tls.Config{RootCAs: e.pki.pool()}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: tc, DialContext: dialLoopback, ForceAttemptHTTP2: true}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// url is https://host:port+path on this server.
func (e *routeEnv) url(host, path string) string { return "https://" + host + ":" + e.port + path }

// token mints a session for email with groups.
func (e *routeEnv) token(email string, groups ...string) string {
	e.t.Helper()
	tok, err := e.srv.IssueToken(session.Claims{Subject: "sub-" + email, Email: email, Groups: groups,
		Claims: map[string]any{"department": "eng"}}, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// do sends a request and returns the response and body.
func (e *routeEnv) do(c *http.Client, method, u string, hdr http.Header) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if h := hdr.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(b)
}

// seen is what the echo upstream reports.
type seen struct {
	Name    string      `json:"name"`
	Method  string      `json:"method"`
	Host    string      `json:"host"`
	Path    string      `json:"path"`
	RawPath string      `json:"raw_path"`
	Query   string      `json:"query"`
	Header  http.Header `json:"header"`
	TLS     bool        `json:"tls"`
	Client  string      `json:"client_cn"`
}

func decodeSeen(t *testing.T, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("upstream answer %q: %v", body, err)
	}
	return s
}

// echoHandler answers what it received as JSON; /redirect-me answers a
// Location for rewrite_response_headers; /slow waits for ?ms.
func echoHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/location" {
			w.Header().Set("Location", "http://localhost:8000/two/some/path/")
		}
		s := seen{Name: name, Method: r.Method, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, Query: r.URL.RawQuery, Header: r.Header, TLS: r.TLS != nil}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			s.Client = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", name)
		json.NewEncoder(w).Encode(s)
	})
}

// upstream serves h on a loopback port (TLS with cert when given) and
// returns host:port and a stop func.
func upstream(t *testing.T, h http.Handler, tc *tls.Config) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, TLSConfig: tc, ReadHeaderTimeout: 10 * time.Second}
	if tc != nil {
		go srv.ServeTLS(ln, "", "")
	} else {
		go srv.Serve(ln)
	}
	var once sync.Once
	stop := func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// pollUntil retries check until it returns "" or the deadline passes.
func pollUntil(t *testing.T, d time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
