package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

const testAddr = "127.0.0.1:8443"

// env is an API over the real memory store, served by httptest.
type env struct {
	t     *testing.T
	st    store.Store
	api   *API
	srv   *httptest.Server
	token string // API user token
	id    string // ID token

	mu  sync.Mutex
	now time.Time
}

type envOption func(*Options)

// newEnv starts the API with one YAML route (tcp+https://127.0.0.1:8443/
// yaml.internal:22) and an API user signed in.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	st, err := store.OpenMemory(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, now: time.Now()}
	yaml, err := config.Parse([]byte("routes:\n- from: tcp+https://" + testAddr + "/yaml.internal:22\n  to: tcp://127.0.0.1:22\n  name: from yaml\n  allow_any_authenticated_user: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := selfSigned(t, "server.localhost", false)
	o := Options{
		Store: st, TokenKey: bytes.Repeat([]byte{7}, 32), Address: testAddr,
		ConfigRoutes: func() []config.Route { return yaml.Routes },
		Certificates: func() []tls.Certificate { return []tls.Certificate{cert} },
		BaseSettings: Settings{LogLevel: "info", Address: testAddr, CookieName: "_pomerium", CookieHTTPOnly: true, CookieExpire: "14h"},
		Now: func() time.Time {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.now
		},
	}
	for _, f := range opts {
		f(&o)
	}
	if e.api, err = New(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	// One replica beating, as a serving server's heartbeat writes it.
	if err := store.Replicas.Put(context.Background(), st, &store.Replica{Meta: store.Meta{ID: "r1"}, Hostname: "h1",
		Address: testAddr, ServerVersion: "v1", StartedAt: e.now, LastSeen: e.now}); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	_, e.token, err = CreateAPIUser(context.Background(), st, "test user", "", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.id = e.exchange(e.token)
	return e
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *env) exchange(refresh string) string {
	e.t.Helper()
	var out map[string]any
	e.call("POST", "/api/v0/token", map[string]string{"refreshToken": refresh}, 200, &out, nil)
	return out["idToken"].(string)
}

// call sends a request with the ID token (unless hdr sets
// Authorization), checks the status and decodes the body into out.
func (e *env) call(method, path string, body any, want int, out any, hdr http.Header) []byte {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if hdr != nil {
		for k, v := range hdr {
			req.Header[k] = v
		}
	} else if e.id != "" {
		req.Header.Set("Authorization", "Bearer "+e.id)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d; want %d; body %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
		}
	}
	return data
}

// message calls and returns the error body's message.
func (e *env) message(method, path string, body any, want int) string {
	e.t.Helper()
	var out map[string]any
	e.call(method, path, body, want, &out, nil)
	msg, ok := out["message"].(string)
	if !ok || msg == "" {
		e.t.Fatalf("%s %s: error body %v has no message", method, path, out)
	}
	return msg
}

const org = "/api/v0/organizations/" + OrganizationID

func (e *env) createPolicy(name string, enforced bool, ppl string) map[string]any {
	e.t.Helper()
	var out map[string]any
	e.call("POST", org+"/policies", map[string]any{"namespaceId": NamespaceID, "name": name, "enforced": enforced,
		"ppl": json.RawMessage(ppl), "description": "d", "explanation": "e", "remediation": "r"}, 201, &out, nil)
	return out
}

func (e *env) createRoute(body map[string]any) map[string]any {
	e.t.Helper()
	var out map[string]any
	e.call("POST", org+"/routes", body, 201, &out, nil)
	return out
}

// selfSigned makes a certificate for host (a CA when ca) and its PEM.
func selfSigned(t *testing.T, host string, ca bool) (tls.Certificate, [2]string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host},
		DNSNames: []string{host}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: ca, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	c, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return c, [2]string{certPEM, keyPEM}
}

func query(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}
