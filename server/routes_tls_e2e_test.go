package server_test

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// TestUpstreamTLS: an https upstream with a private CA (and one that
// wants a client certificate) through every tls_* setting.
func TestUpstreamTLS(t *testing.T) {
	upCA := newPKI(t, "upstream CA")
	dir := t.TempDir()
	caFile := writeFile(t, dir, "up-ca.pem", upCA.PEM)
	// The upstream's certificate names only upstream.internal: reaching
	// it by IP needs tls_server_name.
	named := upCA.issue("upstream", []string{"upstream.internal"}, false)
	byName, _ := upstream(t, echoHandler("named"), &tls.Config{Certificates: []tls.Certificate{named}})
	byIP, _ := upstream(t, echoHandler("ip"), &tls.Config{Certificates: []tls.Certificate{upCA.issue("upstream", []string{"127.0.0.1"}, false)}})
	// mTLS upstream: demands a client certificate from upCA.
	mtls, _ := upstream(t, echoHandler("mtls"), &tls.Config{
		Certificates: []tls.Certificate{upCA.issue("upstream", []string{"127.0.0.1"}, false)},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: upCA.pool(),
	})
	clientPEM, clientKey := pemPair(t, upCA.issue("porthole-proxy", nil, true))
	clientFile, keyFile := writeFile(t, dir, "client.pem", clientPEM), writeFile(t, dir, "client.key", clientKey)

	route := func(host, to string, extra ...string) string {
		s := "  - from: https://" + host + "\n    to: https://" + to + "\n    allow_public_unauthenticated_access: true\n"
		for _, x := range extra {
			s += "    " + x + "\n"
		}
		return s
	}
	yml := "routes:\n" +
		route("noca.localhost", byIP) +
		route("cafile.localhost", byIP, "tls_custom_ca_file: "+caFile) +
		route("ca.localhost", byIP, "tls_custom_ca: "+b64(upCA.PEM)) +
		route("skip.localhost", byIP, "tls_skip_verify: true") +
		route("sni.localhost", byName, "tls_custom_ca_file: "+caFile, "tls_server_name: upstream.internal") +
		route("sni2.localhost", byName, "tls_custom_ca_file: "+caFile, "tls_upstream_server_name: upstream.internal") +
		route("nosni.localhost", byName, "tls_custom_ca_file: "+caFile) +
		route("mtls.localhost", mtls, "tls_custom_ca_file: "+caFile, "tls_client_cert_file: "+clientFile, "tls_client_key_file: "+keyFile) +
		route("mtlsb64.localhost", mtls, "tls_custom_ca_file: "+caFile, "tls_client_cert: "+b64(clientPEM), "tls_client_key: "+b64(clientKey), "tls_upstream_allow_renegotiation: true") +
		route("nomtls.localhost", mtls, "tls_custom_ca_file: "+caFile)
	e := startRoutes(t, yml)
	for _, tc := range []struct {
		host     string
		want     int
		upstream string
		clientCN string
	}{
		{"noca.localhost", http.StatusBadGateway, "", ""},
		{"cafile.localhost", 200, "ip", ""},
		{"ca.localhost", 200, "ip", ""},
		{"skip.localhost", 200, "ip", ""},
		{"sni.localhost", 200, "named", ""},
		{"sni2.localhost", 200, "named", ""},
		{"nosni.localhost", http.StatusBadGateway, "", ""},
		{"mtls.localhost", 200, "mtls", "porthole-proxy"},
		{"mtlsb64.localhost", 200, "mtls", "porthole-proxy"},
		{"nomtls.localhost", http.StatusBadGateway, "", ""},
	} {
		t.Run(tc.host, func(t *testing.T) {
			resp, body := e.do(e.client, "GET", e.url(tc.host, "/"), nil)
			if resp.StatusCode != tc.want {
				t.Fatalf("status: got %d (%q); want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want != 200 {
				if !strings.Contains(body, "details:") {
					t.Errorf("502 body %q: want the TLS error as details (show_error_details defaults to true)", body)
				}
				return
			}
			s := decodeSeen(t, body)
			if s.Name != tc.upstream || !s.TLS || s.Client != tc.clientCN {
				t.Errorf("upstream saw: name %q tls %v client %q; want %q true %q", s.Name, s.TLS, s.Client, tc.upstream, tc.clientCN)
			}
		})
	}
}

// TestGlobalCertificateAuthority: certificate_authority is trusted for
// every https upstream (added to the system roots).
func TestGlobalCertificateAuthority(t *testing.T) {
	upCA := newPKI(t, "upstream CA")
	byIP, _ := upstream(t, echoHandler("ip"), &tls.Config{Certificates: []tls.Certificate{upCA.issue("upstream", []string{"127.0.0.1"}, false)}})
	e := startRoutes(t, "certificate_authority: "+b64(upCA.PEM)+"\nroutes:\n  - from: https://up.localhost\n    to: https://"+byIP+"\n    allow_public_unauthenticated_access: true\n    show_error_details: false\n")
	if resp, body := e.do(e.client, "GET", e.url("up.localhost", "/"), nil); resp.StatusCode != 200 {
		t.Fatalf("got %d %q; want 200 through certificate_authority", resp.StatusCode, body)
	}
}

// TestShowErrorDetails: with show_error_details false the 502 page says
// what failed but not the upstream's error.
func TestShowErrorDetails(t *testing.T) {
	dead := testutil.RefusedAddr(t)
	e := startRoutes(t, "routes:\n  - from: https://quiet.localhost\n    to: http://"+dead+"\n    allow_public_unauthenticated_access: true\n    show_error_details: false\n"+
		"  - from: https://loud.localhost\n    to: http://"+dead+"\n    allow_public_unauthenticated_access: true\n")
	resp, body := e.do(e.client, "GET", e.url("quiet.localhost", "/"), nil)
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "details") || strings.Contains(body, dead) {
		t.Errorf("quiet: got %d %q; want 502 without details", resp.StatusCode, body)
	}
	resp, body = e.do(e.client, "GET", e.url("loud.localhost", "/"), nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "connection refused") {
		t.Errorf("loud: got %d %q; want 502 with the dial error", resp.StatusCode, body)
	}
}

// TestDownstreamClientCertificate: tls_downstream_client_ca asks for a
// client certificate on that route's host only and accepts only ones
// from its CA (495 otherwise).
func TestDownstreamClientCertificate(t *testing.T) {
	a, _ := upstream(t, echoHandler("a"), nil)
	users := newPKI(t, "users CA")
	other := newPKI(t, "other CA")
	dir := t.TempDir()
	e := startRoutes(t, "routes:\n  - from: https://mtls.localhost\n    to: http://"+a+"\n    allow_public_unauthenticated_access: true\n"+
		"    tls_downstream_client_ca_file: "+writeFile(t, dir, "users.pem", users.PEM)+"\n"+
		"    set_request_headers: {X-Client-FP: '${pomerium.client_cert_fingerprint}'}\n"+
		"  - from: https://open.localhost\n    to: http://"+a+"\n    allow_public_unauthenticated_access: true\n")
	good := users.issue("alice", nil, true)
	bad := other.issue("mallory", nil, true)
	if resp, _ := e.do(e.newClient(nil), "GET", e.url("mtls.localhost", "/"), nil); resp.StatusCode != 495 {
		t.Errorf("no client certificate: got %d; want 495", resp.StatusCode)
	}
	if resp, _ := e.do(e.newClient(&bad), "GET", e.url("mtls.localhost", "/"), nil); resp.StatusCode != 495 {
		t.Errorf("certificate from another CA: got %d; want 495", resp.StatusCode)
	}
	resp, body := e.do(e.newClient(&good), "GET", e.url("mtls.localhost", "/"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("certificate from the route's CA: got %d %q; want 200", resp.StatusCode, body)
	}
	if fp := decodeSeen(t, body).Header.Get("X-Client-FP"); len(fp) != 64 {
		t.Errorf("${pomerium.client_cert_fingerprint}: got %q; want 64 hex digits", fp)
	}
	// Another host is not asked for a certificate at all.
	var asked bool
	c := &tls.Config{RootCAs: e.pki.pool(), ServerName: "open.localhost",
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked = true
			return &tls.Certificate{}, nil
		}}
	conn, err := tls.Dial("tcp", e.addr, c)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if asked {
		t.Error("open.localhost asked for a client certificate; only routes with tls_downstream_client_ca should")
	}
}

// TestCertificatesBySNI: the certificates list alone (no
// certificate_file) serves each host its own certificate, and the
// base64 certificate/certificate_key form works too.
func TestCertificatesBySNI(t *testing.T) {
	ca := newPKI(t, "sni CA")
	dir := t.TempDir()
	aCert, aKey := pemPair(t, ca.issue("a", []string{"a.localhost"}, false))
	bCert, bKey := pemPair(t, ca.issue("b", []string{"b.localhost"}, false))
	cCert, cKey := pemPair(t, ca.issue("c", []string{"c.localhost"}, false))
	e := &routeEnv{t: t, pki: ca}
	yml := "certificates:\n" +
		"  - cert: " + writeFile(t, dir, "a.pem", aCert) + "\n    key: " + writeFile(t, dir, "a.key", aKey) + "\n" +
		"  - cert: " + writeFile(t, dir, "b.pem", bCert) + "\n    key: " + writeFile(t, dir, "b.key", bKey) + "\n" +
		"certificate: " + b64(cCert) + "\ncertificate_key: " + b64(cKey) + "\n" +
		"idp_provider_url: https://127.0.0.1:1/never\nidp_client_id: test\n"
	addr := startRaw(t, yml)
	for _, host := range []string{"a.localhost", "b.localhost", "c.localhost"} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: e.pki.pool(), ServerName: host})
		if err != nil {
			t.Errorf("%s: %v", host, err)
			continue
		}
		cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
		conn.Close()
		if want := host[:1]; cn != want {
			t.Errorf("%s: got the certificate of %q; want %q", host, cn, want)
		}
	}
}

// TestDownstreamMTLS: the server-wide downstream_mtls CA with each
// enforcement mode.
func TestDownstreamMTLS(t *testing.T) {
	a, _ := upstream(t, echoHandler("a"), nil)
	users := newPKI(t, "users CA")
	alice := users.issue("alice", nil, true)
	stranger := newPKI(t, "other CA").issue("mallory", nil, true)
	// Both fingerprints are allowed: only verification tells them apart.
	fp, fp2 := sha256.Sum256(alice.Certificate[0]), sha256.Sum256(stranger.Certificate[0])
	public := "routes:\n  - from: https://open.localhost\n    to: http://" + a + "\n    allow_public_unauthenticated_access: true\n" +
		"  - from: https://certs.localhost\n    to: http://" + a + "\n    policy: {allow: {and: [{client_certificate: {fingerprint: [" + hex.EncodeToString(fp[:]) + ", " + hex.EncodeToString(fp2[:]) + "]}}]}}\n"
	for _, tc := range []struct {
		mode                 string
		none, good, stranger int // statuses on open.localhost; 0: the handshake fails
		certsNone, certsGood int // on certs.localhost (policy mode only)
	}{
		{"policy_with_default_deny", 495, 200, 495, 0, 0},
		{"policy", 200, 200, 200, 403, 0},
		{"reject_connection", 0, 200, 0, 0, 0},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			e := startRoutes(t, "downstream_mtls: {ca: "+b64(users.PEM)+", enforcement: "+tc.mode+"}\n"+public)
			status := func(cert *tls.Certificate, host string) int {
				resp, err := e.newClient(cert).Get(e.url(host, "/"))
				if err != nil {
					return 0
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if got := status(nil, "open.localhost"); got != tc.none {
				t.Errorf("no certificate: got %d; want %d", got, tc.none)
			}
			if got := status(&alice, "open.localhost"); got != tc.good {
				t.Errorf("certificate from the CA: got %d; want %d", got, tc.good)
			}
			if got := status(&stranger, "open.localhost"); got != tc.stranger {
				t.Errorf("certificate from another CA: got %d; want %d", got, tc.stranger)
			}
			if tc.mode == "policy" {
				// The criterion sees only a verified certificate.
				if got := status(&stranger, "certs.localhost"); got != 403 {
					t.Errorf("client_certificate criterion with an unverified certificate: got %d; want 403", got)
				}
				if got := status(&alice, "certs.localhost"); got != 200 {
					t.Errorf("client_certificate criterion with a verified certificate: got %d; want 200", got)
				}
			}
		})
	}
}

// TestConnectUDPClientCertificate: connect-udp is held to the client CA
// as CONNECT and http routes are (downstream_mtls applies to every route).
func TestConnectUDPClientCertificate(t *testing.T) {
	users := newPKI(t, "users CA")
	alice := users.issue("alice", nil, true)
	stranger := newPKI(t, "other CA").issue("mallory", nil, true)
	e := startRoutes(t, "downstream_mtls: {ca: "+b64(users.PEM)+", enforcement: policy_with_default_deny}\n"+
		"routes:\n  - from: udp+https://dns.internal:53\n    to: udp://"+testutil.RefusedAddr(t)+"\n    allow_public_unauthenticated_access: true\n")
	status := func(cert *tls.Certificate) int {
		t.Helper()
		tc := &tls.Config{RootCAs: e.pki.pool()}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		// HTTP/1.1 only: the Upgrade form of connect-udp.
		tr := &http.Transport{TLSClientConfig: tc, DialContext: dialLoopback,
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodGet, e.url("localhost", "/.well-known/masque/udp/dns.internal/53/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "dns.internal:53"
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "connect-udp")
		req.Header.Set("Capsule-Protocol", "?1")
		resp, err := (&http.Client{Transport: tr, Timeout: 2 * time.Minute}).Do(req)
		if err != nil {
			t.Fatalf("connect-udp: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(nil); got != 495 {
		t.Errorf("connect-udp without a client certificate: got %d; want 495", got)
	}
	if got := status(&stranger); got != 495 {
		t.Errorf("connect-udp with a certificate from another CA: got %d; want 495", got)
	}
	if got := status(&alice); got != http.StatusOK {
		t.Errorf("connect-udp with a certificate from the CA: got %d; want 200", got)
	}
}
