package server_test

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/porthole-dev/porthole/internal/masque"
	"github.com/porthole-dev/porthole/internal/testutil"
)

// udpH1 sends a connect-udp request over HTTP/1.1 for path and returns
// the answer and the stream.
func udpH1(t *testing.T, d *testutil.DevServer, path, host, auth string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	head := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: Upgrade\r\nUpgrade: connect-udp\r\nCapsule-Protocol: ?1\r\n"
	return requestH1(t, d, http.MethodGet, head, auth, "reading the connect-udp answer")
}

// udpH2 sends a connect-udp extended CONNECT on cc.
func udpH2(t *testing.T, cc *http2.ClientConn, path, host, auth string) (*http.Response, *io.PipeWriter) {
	t.Helper()
	resp, pw, err := tryUDPH2(cc, path, host, auth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pw.Close(); resp.Body.Close() })
	return resp, pw
}

// tryUDPH2 is udpH2 returning its error (the caller closes pw and the
// body).
func tryUDPH2(cc *http2.ClientConn, path, host, auth string) (*http.Response, *io.PipeWriter, error) {
	u, err := url.Parse(path)
	if err != nil {
		return nil, nil, err
	}
	u.Scheme, u.Host = "https", host
	pr, pw := io.Pipe()
	req := &http.Request{Method: http.MethodConnect, URL: u, Host: host,
		Header: http.Header{":protocol": {"connect-udp"}, "Capsule-Protocol": {"?1"}}, Body: pr, ContentLength: -1}
	if auth != "" {
		req.Header.Set("Authorization", "Pomerium "+auth)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	resp, err := cc.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		pw.Close()
		return nil, nil, fmt.Errorf("h2 connect-udp: %w", err)
	}
	resp.Body = &cancelOnClose{resp.Body, cancel}
	return resp, pw, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error { err := c.ReadCloser.Close(); c.cancel(); return err }

func h2Conn(t *testing.T, d *testutil.DevServer) *http2.ClientConn {
	t.Helper()
	cc, err := tryH2Conn(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// tryH2Conn dials d over TLS with h2 (the caller closes the conn).
func tryH2Conn(d *testutil.DevServer) (*http2.ClientConn, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", d.Addr,
		&tls.Config{RootCAs: d.CAPool, NextProtos: []string{"h2"}})
	if err != nil {
		return nil, err
	}
	cc, err := (&http2.Transport{}).NewClientConn(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return cc, nil
}

// echoDatagrams sends datagrams of many sizes as capsules on w and
// checks each comes back unchanged on r.
func echoDatagrams(t *testing.T, w io.Writer, r io.Reader) {
	t.Helper()
	cr := masque.NewReader(r)
	for _, n := range []int{1, 2, 63, 64, 100, 512, 1200, 1400} {
		p := bytes.Repeat([]byte{byte(n)}, n)
		if err := masque.WriteDatagram(w, p); err != nil {
			t.Fatalf("writing a %d-byte datagram: %v", n, err)
		}
		got, err := cr.ReadDatagram()
		if err != nil {
			t.Fatalf("reading the echo of a %d-byte datagram: %v", n, err)
		}
		if !bytes.Equal(got, p) {
			t.Fatalf("echo of a %d-byte datagram: got %d bytes, not the ones sent", n, len(got))
		}
	}
}

const udpRoutes = `
routes:
  - from: udp+https://dns.internal:53
    to: udp://ECHO
    allowed_users: [dev@example.com]
  - from: udp+https://quiet.internal:53
    to: udp://ECHO
    allow_any_authenticated_user: true
    idle_timeout: 5s
  - from: udp+https://[::1]:53
    to: udp://ECHO
    allow_any_authenticated_user: true
  - from: tcp+https://tcp.internal:53
    to: tcp://127.0.0.1:9
    allow_any_authenticated_user: true
`

// TestConnectUDP: connect-udp over HTTP/1.1 (answered 200, not 101) and
// HTTP/2 extended CONNECT carries datagrams of 1 to 1,400 bytes to a
// loopback UDP echo and back, routed by the path whatever the Host says.
func TestConnectUDP(t *testing.T) {
	echo := testutil.StartUDPEcho(t)
	s, d := configServer(t, strings.ReplaceAll(udpRoutes, "ECHO", echo))
	dev := issue(t, s, "dev@example.com", time.Hour)
	path := masque.Path("dns.internal", "53")

	t.Run("http1", func(t *testing.T) {
		resp, conn, br := udpH1(t, d, path, "dns.internal:53", dev)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d; want 200 (pomerium-cli treats 101 as an error)", resp.StatusCode)
		}
		if got := resp.Header.Get("Capsule-Protocol"); got != "?1" {
			t.Errorf("Capsule-Protocol: got %q; want ?1", got)
		}
		echoDatagrams(t, conn, br)
	})
	t.Run("http1 fully qualified target", func(t *testing.T) {
		resp, conn, br := udpH1(t, d, masque.Path("dns.internal.", "53"), "dns.internal.:53", dev)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("dns.internal. (trailing dot): got %d; want 200 from the dns.internal route", resp.StatusCode)
		}
		echoDatagrams(t, conn, br)
	})
	t.Run("http1 routed by path not Host", func(t *testing.T) {
		resp, conn, br := udpH1(t, d, path, d.Addr, dev)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d; want 200", resp.StatusCode)
		}
		echoDatagrams(t, conn, br)
	})
	t.Run("http1 IPv6 literal", func(t *testing.T) {
		resp, conn, br := udpH1(t, d, "/.well-known/masque/udp/%3A%3A1/53/", "[::1]:53", dev)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d; want 200", resp.StatusCode)
		}
		echoDatagrams(t, conn, br)
	})
	t.Run("http2", func(t *testing.T) {
		cc := h2Conn(t, d)
		resp, pw := udpH2(t, cc, path, "dns.internal:53", dev)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d; want 200", resp.StatusCode)
		}
		echoDatagrams(t, pw, resp.Body)
		// A second tunnel on the same connection.
		resp2, pw2 := udpH2(t, cc, path, "dns.internal:53", dev)
		if resp2.StatusCode != http.StatusOK {
			t.Fatalf("second stream: got %d; want 200", resp2.StatusCode)
		}
		echoDatagrams(t, pw2, resp2.Body)
	})
	t.Run("idle timeout", func(t *testing.T) {
		resp, conn, br := udpH1(t, d, masque.Path("quiet.internal", "53"), "quiet.internal:53", dev)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d; want 200", resp.StatusCode)
		}
		// The idle clock runs while the echoes make their round trips: 5s
		// is far longer than a gap between them on a loaded machine.
		echoDatagrams(t, conn, br)
		start := time.Now()
		if _, err := io.Copy(io.Discard, br); err != nil {
			t.Fatalf("waiting for the idle close: %v", err)
		}
		if took := time.Since(start); took < 2*time.Second || took > 50*time.Second {
			t.Errorf("closed after %v idle; want about the route's 5s", took.Round(time.Millisecond))
		}
	})
}

// TestConnectUDPRefusals: the status codes of CONNECT, over both
// protocols; a stale token is sent to sign in (302), never a 401.
func TestConnectUDPRefusals(t *testing.T) {
	echo := testutil.StartUDPEcho(t)
	s, d := configServer(t, strings.ReplaceAll(udpRoutes, "ECHO", echo))
	dev, guest := issue(t, s, "dev@example.com", time.Hour), issue(t, s, "guest@example.com", time.Hour)
	expired := issue(t, s, "dev@example.com", -time.Minute)
	for _, tc := range []struct {
		name, path, auth string
		want             int
	}{
		{"no credentials", masque.Path("dns.internal", "53"), "", http.StatusFound},
		{"bad token", masque.Path("dns.internal", "53"), "garbage", http.StatusFound},
		{"expired token", masque.Path("dns.internal", "53"), expired, http.StatusFound},
		{"another user", masque.Path("dns.internal", "53"), guest, http.StatusForbidden},
		{"unlisted", masque.Path("other.internal", "53"), dev, http.StatusNotFound},
		{"wrong port", masque.Path("dns.internal", "54"), dev, http.StatusNotFound},
		{"two trailing dots", masque.Path("dns.internal..", "53"), dev, http.StatusBadRequest},
		{"a tcp route", masque.Path("tcp.internal", "53"), dev, http.StatusNotFound},
		{"bad port", "/.well-known/masque/udp/dns.internal/0/", dev, http.StatusBadRequest},
		{"no port", "/.well-known/masque/udp/dns.internal/", dev, http.StatusBadRequest},
	} {
		t.Run("http1 "+tc.name, func(t *testing.T) {
			resp, _, _ := udpH1(t, d, tc.path, "dns.internal:53", tc.auth)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d; want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusFound && !strings.HasPrefix(resp.Header.Get("Location"), "https://"+d.Addr+"/.pomerium/sign_in") {
				t.Errorf("Location: got %q; want the sign-in URL", resp.Header.Get("Location"))
			}
		})
		t.Run("http2 "+tc.name, func(t *testing.T) {
			resp, _ := udpH2(t, h2Conn(t, d), tc.path, "dns.internal:53", tc.auth)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d; want %d", resp.StatusCode, tc.want)
			}
		})
	}
	// A GET of the same path without the Upgrade is no tunnel request.
	resp, body := get(t, apiClient(t, d), d.URL.String()+masque.Path("dns.internal", "53"), map[string]string{"Authorization": "Pomerium " + dev})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("plain GET of the connect-udp path: got %d %q; want 404", resp.StatusCode, body)
	}
}
