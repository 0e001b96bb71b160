package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/session"
)

// configServer runs a dev-mode server (its CA and provider) with the
// routes of yml added, and returns it with a client-side handle.
func configServer(t *testing.T, yml string) (*server.Server, *testutil.DevServer) {
	t.Helper()
	cfg, err := config.Parse([]byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{Dev: true, DevDir: t.TempDir(), Address: ln.Addr().String(), Config: cfg})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	serve(t, s, ln, nil)
	addr := ln.Addr().String()
	return s, &testutil.DevServer{URL: &url.URL{Scheme: "https", Host: addr}, Addr: addr, CAPool: s.CAPool()}
}

func issue(t *testing.T, s *server.Server, email string, ttl time.Duration) string {
	t.Helper()
	tok, err := s.IssueToken(session.Claims{Subject: "u-" + email, Email: email}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestConnectPolicyBeforeDial: refused CONNECTs (302, 403) never
// open a connection to the upstream. The upstream's accept queue is FIFO,
// so if any refusal had dialed, the first connection accepted would be
// that one and not the allowed tunnel that follows them.
func TestConnectPolicyBeforeDial(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	s, d := configServer(t, `
routes:
  - from: tcp+https://guarded.internal:9
    to: tcp://`+up.Addr().String()+`
    allowed_users: [dev@example.com]
  - from: tcp+https://closed.internal:9
    to: tcp://`+up.Addr().String()+`
`)
	dev, guest := issue(t, s, "dev@example.com", time.Hour), issue(t, s, "guest@example.com", time.Hour)
	expired := issue(t, s, "dev@example.com", -time.Minute)
	for _, tc := range []struct {
		name, authority, auth string
		want                  int
	}{
		{"no credentials", "guarded.internal:9", "", http.StatusFound},
		{"bad token", "guarded.internal:9", "garbage", http.StatusFound},
		{"expired token", "guarded.internal:9", expired, http.StatusFound},
		{"another user", "guarded.internal:9", guest, http.StatusForbidden},
		// A route with no policy denies everyone, signed in or not.
		{"no policy, no credentials", "closed.internal:9", "", http.StatusForbidden},
		{"no policy, signed in", "closed.internal:9", dev, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp, _, _ := connectH1(t, d, tc.authority, tc.auth); resp.StatusCode != tc.want {
				t.Fatalf("got %d; want %d", resp.StatusCode, tc.want)
			}
		})
	}

	resp, conn, _ := connectH1(t, d, "guarded.internal:9", dev)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("allowed CONNECT: got %d; want 200", resp.StatusCode)
	}
	if _, err := io.WriteString(conn, "first"); err != nil {
		t.Fatal(err)
	}
	c, err := up.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "first" {
		t.Fatalf("first connection the upstream accepted: got %q, %v; want the allowed tunnel's \"first\" (a refused CONNECT dialed the upstream)", got, err)
	}
}

// TestConnectDialTimeout: an upstream that never answers the handshake
// gets 503 once the route's timeout (1s here) has passed, well before the
// 30s default. The upstream is a loopback listener whose accept queue
// (backlog 0) is already full, so Linux drops further SYNs.
func TestConnectDialTimeout(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux dropping SYNs to a listener with a full accept queue")
	}
	addr := fullListener(t)
	s, d := configServer(t, `
routes:
  - from: tcp+https://blackhole.internal:9
    to: tcp://`+addr+`
    allow_any_authenticated_user: true
    timeout: 1s
`)
	start := time.Now()
	resp, _, _ := connectH1(t, d, "blackhole.internal:9", issue(t, s, "dev@example.com", time.Hour))
	took := time.Since(start)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("got %d; want 503", resp.StatusCode)
	}
	if took < time.Second || took >= 30*time.Second {
		t.Errorf("503 after %v; want it after the route's 1s dial timeout, not the 30s default", took.Round(time.Millisecond))
	}
}

// fullListener listens on loopback with backlog 0 and fills its accept
// queue, checking that one more dial now hangs.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	for i := 0; ; i++ {
		// Long enough that a loaded machine's scheduling delay is never
		// taken for a dropped SYN.
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return addr // the queue is full: SYNs go unanswered
			}
			t.Fatalf("filling the accept queue of %s: %v", addr, err)
		}
		t.Cleanup(func() { c.Close() })
		if i == 8 {
			t.Fatalf("the accept queue of %s never filled", addr)
		}
	}
}

// TestConnectHTTP2Refusals: the answers of PROTOCOL.md over HTTP/2 CONNECT
// (:authority), as pomerium-cli's h2 tunnel sends it.
func TestConnectHTTP2Refusals(t *testing.T) {
	d := testutil.StartDevServer(t)
	guest := issue(t, d.Server(), "guest@example.com", time.Hour)
	expired := issue(t, d.Server(), "dev@example.com", -time.Minute)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", d.Addr,
		&tls.Config{RootCAs: d.CAPool, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cc, err := (&http2.Transport{}).NewClientConn(conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, authority, auth string
		want                  int
	}{
		{"no credentials", "echo.internal:7000", "", http.StatusFound},
		{"bad token", "echo.internal:7000", "garbage", http.StatusFound},
		{"expired token", "echo.internal:7000", expired, http.StatusFound},
		{"guest on admin-echo", "admin-echo.internal:7001", guest, http.StatusForbidden},
		{"unlisted", "db.internal:5432", guest, http.StatusNotFound},
		{"guest on echo", "echo.internal:7000", guest, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			req := &http.Request{
				Method: http.MethodConnect, Host: tc.authority, URL: &url.URL{Opaque: tc.authority},
				Header: http.Header{}, Body: pr, ContentLength: -1,
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", "Pomerium "+tc.auth)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			resp, err := cc.RoundTrip(req.WithContext(ctx))
			if err != nil {
				t.Fatalf("h2 CONNECT: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d; want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusFound {
				if loc := resp.Header.Get("Location"); loc != "https://"+d.Addr+"/.pomerium/sign_in" {
					t.Errorf("Location: got %q; want the sign-in URL on %s", loc, d.Addr)
				}
			}
		})
	}
}

// TestStaleCookieSignsInAgain: a browser whose session cookie expired (or
// outlived a restart) is sent to sign in, not shown a 401.
func TestStaleCookieSignsInAgain(t *testing.T) {
	d := testutil.StartDevServer(t)
	expired := issue(t, d.Server(), "dev@example.com", -time.Minute)
	c := apiClient(t, d)
	for _, u := range []string{
		"https://verify.localhost:" + d.URL.Port() + "/page",
		d.URL.String() + "/.pomerium/routes",
	} {
		for _, cookie := range []string{"_pomerium=" + expired, "_pomerium=garbage"} {
			resp, body := get(t, c, u, map[string]string{"Cookie": cookie})
			if resp.StatusCode != http.StatusFound {
				t.Errorf("%s with a stale cookie: got %d %q; want 302 to sign in", u, resp.StatusCode, body)
				continue
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || loc.Path != "/.pomerium/sign_in" {
				t.Errorf("%s with a stale cookie: Location %q; want /.pomerium/sign_in", u, resp.Header.Get("Location"))
			}
		}
	}
	// An explicit token that is bad still gets 401 (the client drops it).
	resp, _ := get(t, c, "https://verify.localhost:"+d.URL.Port()+"/", map[string]string{"Authorization": "Pomerium " + expired})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired Authorization token: got %d; want 401", resp.StatusCode)
	}
}

// TestNoPolicyHTTPRouteDenies: an https route with neither policy nor
// shortcut answers 403 to everyone, anonymous included (it used to
// crash the handler for the anonymous).
func TestNoPolicyHTTPRouteDenies(t *testing.T) {
	s, d := configServer(t, `
routes:
  - from: https://closed.localhost
    to: http://127.0.0.1:9
`)
	c := apiClient(t, d)
	u := "https://closed.localhost:" + d.URL.Port() + "/"
	for _, hdr := range []map[string]string{nil, {"Authorization": "Pomerium " + issue(t, s, "dev@example.com", time.Hour)}} {
		if resp, body := get(t, c, u, hdr); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s (headers %v): got %d %q; want 403", u, len(hdr), resp.StatusCode, body)
		}
	}
}
