package server_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
)

// TestPomeriumAllInOneExample runs the Pomerium-style example config
// (server/config/testdata/pomerium-all-in-one.yaml) with only its
// certificate paths and listen addresses replaced, and checks routes
// that need no upstream: a redirect, sign-in, a PPL denial with its
// explanation, the portal.
func TestPomeriumAllInOneExample(t *testing.T) {
	src, err := os.ReadFile("config/testdata/pomerium-all-in-one.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pki := newPKI(t, "corp CA")
	certPEM, keyPEM := pemPair(t, pki.issue("corp", []string{"*.corp.example.com", "corp.example.com"}, false))
	yml := strings.NewReplacer(
		"/etc/pomerium/certs/corp.example.com.crt", writeFile(t, dir, "corp.crt", certPEM),
		"/etc/pomerium/certs/corp.example.com.key", writeFile(t, dir, "corp.key", keyPEM),
		"metrics_address: 127.0.0.1:9090", "metrics_address: 127.0.0.1:0",
		"http_redirect_addr: :80", "http_redirect_addr: 127.0.0.1:0",
	).Replace(string(src))
	file := writeFile(t, dir, "config.yaml", []byte(yml))
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	logs := &syncBuffer{}
	s, err := server.New(server.Options{Config: cfg, ConfigFile: file, Address: addr, Logger: slogTo(logs)})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	serve(t, s, ln, logs)
	if n := len(s.Routes()); n != 12 {
		t.Fatalf("serving %d routes; want 12", n)
	}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: time.Minute}).DialContext(ctx, network, addr)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool()}, DialContext: dial, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e := &routeEnv{t: t, srv: s}
	tok := "Pomerium " + e.token("dev@corp.example.com", "engineering")
	u := func(host, path string) string { return "https://" + host + ":" + port + path }
	for _, tc := range []struct {
		name, method, url string
		h                 http.Header
		want              int
		check             func(resp *http.Response, body string) string
	}{
		{"health", "GET", u("verify.corp.example.com", "/healthz"), nil, 200, nil},
		{"redirect route", "GET", u("legacy.corp.example.com", "/old"), nil, 302, func(resp *http.Response, _ string) string {
			if got, want := resp.Header.Get("Location"), "https://wiki.corp.example.com:"+port+"/legacy"; got != want {
				return "Location " + got + "; want " + want
			}
			return ""
		}},
		{"sign-in first", "GET", u("verify.corp.example.com", "/"), nil, 302, nil},
		{"PPL denial explains itself", "DELETE", u("api.corp.example.com", "/v1/items"), hdr("Authorization", tok), 403, func(_ *http.Response, body string) string {
			if !strings.Contains(body, "why: The API takes GET and POST only.") || !strings.Contains(body, "what to do: Use the admin console") {
				return "403 body " + body + " lacks the explanation and remediation"
			}
			return ""
		}},
		{"group policy denies", "GET", u("k8s.corp.example.com", "/"), hdr("Authorization", tok), 403, nil},
		{"portal lists routes", "GET", u("verify.corp.example.com", "/.pomerium/api/v1/routes"), hdr("Authorization", tok), 200, func(_ *http.Response, body string) string {
			if !strings.Contains(body, "grafana") || strings.Contains(body, "postgres") {
				return "routes list " + body + ": want grafana (engineering) and not postgres (dba)"
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(c, tc.method, tc.url, tc.h)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %q; want %d", resp.StatusCode, body, tc.want)
			}
			if tc.check != nil {
				if msg := tc.check(resp, body); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}
