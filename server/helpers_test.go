package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server"
)

// sniClient sends every request over TLS with the given SNI ("" for the
// URL host's own), over HTTP/1.1 or HTTP/2, without following redirects.
// It dials d's address whatever the URL names, so a name with a trailing
// dot (verify.localhost.) never reaches the resolver.
func sniClient(t *testing.T, d *testutil.DevServer, sni string, h2 bool) *http.Client {
	t.Helper()
	tc := &tls.Config{RootCAs: d.CAPool, ServerName: sni}
	if !h2 {
		tc.NextProtos = []string{"http/1.1"}
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: h2,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 30 * time.Second}).DialContext(ctx, network, d.Addr)
		}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// serve runs s on ln until the test ends (shut down, then waited for);
// logs, when not nil, is shown if the test failed. The context returned
// is the one s serves under (for s.Reload).
func serve(t *testing.T, s *server.Server, ln net.Listener, logs fmt.Stringer) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		s.Shutdown(context.Background())
		cancel()
		<-done
		if logs != nil && t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ctx
}

// dialLoopback maps *.localhost to 127.0.0.1 the way Chromium does, so
// the dev http routes are reachable without DNS.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && strings.HasSuffix(host, ".localhost") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return (&net.Dialer{Timeout: time.Minute}).DialContext(ctx, network, addr)
}

// browser is an http.Client with a cookie jar that trusts the dev CA and
// follows redirects, as a browser does.
func browser(t *testing.T, d *testutil.DevServer) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: d.CAPool}, DialContext: dialLoopback, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, Timeout: 60 * time.Second}
}

// apiClient trusts the dev CA and does not follow redirects.
func apiClient(t *testing.T, d *testutil.DevServer) *http.Client {
	t.Helper()
	c := browser(t, d)
	c.Jar = nil
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func get(t *testing.T, c *http.Client, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	return getHeader(t, c, u, h)
}

// getHeader is get with a header that may repeat.
func getHeader(t *testing.T, c *http.Client, u string, h http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", u, err)
	}
	return resp, string(b)
}

// loginToken runs the programmatic login flow as pomerium-cli does: a
// loopback callback, the login API, a browser following the sign-in URL.
func loginToken(t *testing.T, d *testutil.DevServer) string {
	t.Helper()
	got := make(chan url.Values, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Query():
		default:
		}
		io.WriteString(w, "login complete")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	redirect := "http://" + ln.Addr().String() + "/cb?keep=me"
	resp, body := get(t, apiClient(t, d), d.URL.String()+"/.pomerium/api/v1/login?pomerium_redirect_uri="+url.QueryEscape(redirect), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login API: got %d %q; want 200", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("login API content type: got %q; want text/plain", ct)
	}
	signIn := strings.TrimSpace(body)
	if resp, body := get(t, browser(t, d), signIn, nil); resp.StatusCode != http.StatusOK || body != "login complete" {
		t.Fatalf("following the sign-in URL: got %d %q; want 200 from the callback", resp.StatusCode, body)
	}
	select {
	case q := <-got:
		if q.Get("keep") != "me" {
			t.Errorf("callback query keep: got %q; want me (existing query kept)", q.Get("keep"))
		}
		tok := q.Get("pomerium_jwt")
		if tok == "" {
			t.Fatalf("callback query has no pomerium_jwt: %v", q)
		}
		return tok
	case <-time.After(30 * time.Second):
		t.Fatal("callback never received the token")
	}
	return ""
}

type routesJSON struct {
	Routes []struct {
		ID, Name, Type, From, Description string
		ConnectCommand                    string `json:"connect_command"`
	} `json:"routes"`
}

func routeNames(t *testing.T, body string) []string {
	t.Helper()
	var r routesJSON
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("decoding routes JSON %q: %v", body, err)
	}
	var names []string
	for _, e := range r.Routes {
		names = append(names, e.Name)
	}
	return names
}

func decodeInto(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
}

func x509MarshalKey(cert tls.Certificate) ([]byte, error) {
	return x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
}
