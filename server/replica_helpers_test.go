package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/internal/testutil"
)

// storeConfig is a --config for dev replicas sharing one PostgreSQL store.
func storeConfig(connString string) string {
	return fmt.Sprintf("shared_secret: %s\ncookie_secret: %s\ndatabroker_storage_type: postgres\ndatabroker_storage_connection_string: %q\n",
		testSecret, testSecret, connString)
}

// signIn runs the programmatic login against d (started with AutoLogin)
// and returns the pomerium_jwt, or why it failed.
func signIn(tb testing.TB, d *testutil.DevServer) (string, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got := make(chan string, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Query().Get("pomerium_jwt"):
		default:
		}
		io.WriteString(w, "login complete")
	})}
	go srv.Serve(ln)
	defer srv.Close()
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: d.CAPool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	login := d.URL.String() + "/.pomerium/api/v1/login?pomerium_redirect_uri=" + url.QueryEscape("http://"+ln.Addr().String()+"/")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, login, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login API: %s", resp.Status)
	}
	last, _, err := testutil.Browse(ctx, d.CAPool, strings.TrimSpace(string(body)))
	if err != nil {
		return "", fmt.Errorf("following the sign-in: %w", err)
	}
	// The redirects end at the callback, so by now it has the token.
	select {
	case tok := <-got:
		if tok == "" {
			return "", errors.New("the callback got no pomerium_jwt")
		}
		return tok, nil
	default:
		return "", fmt.Errorf("the sign-in ended at %s without reaching the callback", last.Status)
	}
}

// dialConnect opens a TLS connection to addr and sends CONNECT authority
// with tok; on 200 the returned conn is the tunnel.
func dialConnect(addr string, pool *x509.CertPool, authority, tok string) (int, net.Conn, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", addr,
		&tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
	if err != nil {
		return 0, nil, err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\nAuthorization: Pomerium " + tok + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return 0, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		conn.Close()
		return 0, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return resp.StatusCode, nil, nil
	}
	if br.Buffered() > 0 {
		conn.Close()
		return 0, nil, errors.New("bytes after the CONNECT response")
	}
	conn.SetDeadline(time.Time{})
	return resp.StatusCode, conn, nil
}

// echoOnce writes msg through a tunnel to the echo upstream and reads it
// back.
func echoOnce(conn net.Conn, msg string) error {
	conn.SetDeadline(time.Now().Add(time.Minute))
	defer conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, msg); err != nil {
		return err
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != msg {
		return fmt.Errorf("echo: got %q; want %q", buf, msg)
	}
	return nil
}
