package gui

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/tunnel"
)

// TestPlainError turns real failures (a TLS handshake with an unknown
// CA, a refused dial, a port in use) and proxy answers into plain words
// with a fix, keeping the raw chain for the details.
func TestPlainError(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	srv.StartTLS()
	defer srv.Close()
	c, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{ServerName: "example.com"})
	if err == nil {
		c.Close()
		t.Fatal("TLS with an unknown CA: no error")
	}
	caErr := fmt.Errorf("opening tunnel: %w", err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, inUse := net.Listen("tcp", addr)
	ln.Close()
	_, refused := net.DialTimeout("tcp", addr, 5*time.Second)

	for _, tc := range []struct {
		err         error
		summary     string
		hintContain string
	}{
		{caErr, "the server's certificate is not trusted", "CA file"},
		{refused, "nothing answers at " + addr, "proxy running"},
		{inUse, "the local address is already in use", "another local address"},
		{&tunnel.StatusError{StatusCode: 403}, "the proxy's policy does not allow you this route", "admin"},
		{&tunnel.StatusError{StatusCode: 404}, "the proxy has no such route", "import the routes"},
		{&tunnel.StatusError{StatusCode: 401}, "the proxy wants you to sign in again", "sign in"},
		{&net.DNSError{Name: "proxy.example.com", Err: "no such host"}, "cannot find the host proxy.example.com", "proxy address"},
		{fmt.Errorf("something odd"), "something odd", ""},
	} {
		s, h := plainError(tc.err)
		if s != tc.summary || !strings.Contains(h, tc.hintContain) {
			t.Errorf("plainError(%v): got %q / %q; want %q / a hint with %q", tc.err, s, h, tc.summary, tc.hintContain)
		}
		d := errorDetail(tc.err)
		if tc.hintContain != "" && (!strings.Contains(d, "Fix: ") || !strings.Contains(d, "Details: "+tc.err.Error())) {
			t.Errorf("errorDetail(%v): %q; want the fix and the raw error", tc.err, d)
		}
		if got := (State{Err: tc.err}).Text(); got != "error: "+tc.summary {
			t.Errorf("State.Text: got %q; want %q", got, "error: "+tc.summary)
		}
	}
}
