package server_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/porthole-dev/porthole/internal/testutil"
	"github.com/porthole-dev/porthole/server/session"
)

// connectH1 sends CONNECT authority over HTTP/1.1 and returns the
// response and, on 200, the tunnel.
func connectH1(t *testing.T, d *testutil.DevServer, authority, auth string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	head := "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n"
	return requestH1(t, d, http.MethodConnect, head, auth, "reading CONNECT response")
}

// requestH1 sends one HTTP/1.1 request (head: request and header lines;
// the Authorization line for auth and the blank line are added) on a new
// TLS connection to d and reads the answer's header; failing to read it
// fails the test with what.
func requestH1(t *testing.T, d *testutil.DevServer, method, head, auth, what string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	resp, conn, br, err := tryRequestH1(d, method, head, auth, what)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return resp, conn, br
}

// tryRequestH1 is requestH1 returning its error (the caller closes conn),
// for tests that set a request up again when a deliberately short server
// timeout cut it on a loaded machine.
func tryRequestH1(d *testutil.DevServer, method, head, auth, what string) (*http.Response, net.Conn, *bufio.Reader, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", d.Addr,
		&tls.Config{RootCAs: d.CAPool, NextProtos: []string{"http/1.1"}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("dialing %s: %w", d.Addr, err)
	}
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	req := head
	if auth != "" {
		req += "Authorization: Pomerium " + auth + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	return resp, conn, br, nil
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConnectHTTP1EchoesBytes(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	for _, route := range []string{"echo.internal:7000", "admin-echo.internal:7001"} {
		t.Run(route, func(t *testing.T) {
			resp, conn, br := connectH1(t, d, route, tok)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("CONNECT: got %d; want 200", resp.StatusCode)
			}
			payload := randomBytes(t, 256*1024)
			errc := make(chan error, 1)
			go func() {
				_, err := conn.Write(payload)
				if err == nil {
					// Half-close: the echo sees EOF and closes its side.
					err = conn.(*tls.Conn).CloseWrite()
				}
				errc <- err
			}()
			got, err := io.ReadAll(br)
			if err != nil {
				t.Fatalf("reading echo: %v", err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("writing: %v", err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("echo: got %d bytes; want the %d sent, unchanged", len(got), len(payload))
			}
		})
	}
}

func TestConnectHTTP2EchoesBytes(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", d.Addr,
		&tls.Config{RootCAs: d.CAPool, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN: got %q; want h2", p)
	}
	cc, err := (&http2.Transport{}).NewClientConn(conn)
	if err != nil {
		t.Fatal(err)
	}
	// Two tunnels on one connection, one after the other.
	for i := 0; i < 2; i++ {
		pr, pw := io.Pipe()
		req := &http.Request{
			Method: http.MethodConnect, Host: "echo.internal:7000",
			URL:    &url.URL{Scheme: "https", Host: "echo.internal:7000"},
			Header: http.Header{"Authorization": {"Pomerium " + tok}}, Body: pr, ContentLength: -1,
		}
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatalf("h2 CONNECT: %v", err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("h2 CONNECT: got %d; want 200", resp.StatusCode)
		}
		payload := randomBytes(t, 100*1024)
		go func() {
			pw.Write(payload)
			pw.Close()
		}()
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("reading h2 echo: %v", err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("h2 echo #%d: got %d bytes; want the %d sent, unchanged", i, len(got), len(payload))
		}
	}
}

func TestConnectRefusals(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("guest@example.com"))
	guest := loginToken(t, d)
	expired, err := d.Server().IssueToken(session.Claims{Subject: "dev", Email: "dev@example.com"}, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	verifyHost := "verify.localhost:" + d.URL.Port()
	for _, tc := range []struct {
		name, authority, auth string
		want                  int
	}{
		{"no credentials", "echo.internal:7000", "", 302},
		// A stale or bad token is sent to sign in, not refused with a 401
		// (pomerium-cli up to v0.33.0 would delete it and fail).
		{"bad token", "echo.internal:7000", "not-a-token", 302},
		{"expired token", "echo.internal:7000", expired, 302},
		{"guest on admin-echo", "admin-echo.internal:7001", guest, 403},
		{"guest on echo", "echo.internal:7000", guest, 200},
		{"unlisted", "db.internal:5432", guest, 404},
		{"unlisted without credentials", "example.com:443", "", 404},
		{"wrong port", "echo.internal:7001", guest, 404},
		{"http route host", verifyHost, guest, 404},
		{"the proxy itself", d.Addr, guest, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, _ := connectH1(t, d, tc.authority, tc.auth)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d; want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 302 {
				loc := resp.Header.Get("Location")
				if !strings.HasPrefix(loc, "https://"+d.Addr+"/.pomerium/sign_in") {
					t.Errorf("Location: got %q; want the sign-in URL on %s", loc, d.Addr)
				}
			}
		})
	}
}

func TestShutdownClosesOpenTunnels(t *testing.T) {
	d := testutil.StartDevServer(t, testutil.AutoLogin("dev@example.com"))
	tok := loginToken(t, d)
	resp, conn, br := connectH1(t, d, "echo.internal:7000", tok)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: got %d; want 200", resp.StatusCode)
	}
	if _, err := io.WriteString(conn, "ping"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo before shutdown: got %q %v; want ping", got, err)
	}
	stopped := make(chan struct{})
	go func() { d.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(60 * time.Second):
		t.Fatal("Stop did not return with a tunnel open")
	}
	if _, err := io.ReadAll(br); err != nil && !isClosedErr(err) {
		t.Errorf("reading after shutdown: got %v; want EOF", err)
	}
}

func isClosedErr(err error) bool {
	return err == io.EOF || strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "closed")
}
