package tunnel_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeProxy is a minimal in-process Pomerium-style proxy: the login API,
// a sign-in page that answers at once, and CONNECT (HTTP/1.1 and HTTP/2)
// for a few fixed authorities. It covers the refusals the dev server
// cannot be made to give (5xx, redirect loops) and backs the benchmarks.
//
//	echo.internal:7000        echo, any valid token
//	admin-echo.internal:7001  403 for everyone
//	down.internal:7002        502
//	loop.internal:7003        302 even with a valid token
//	sink.internal:7004        reads and discards, never answers
//	rst.internal:7005         echoes one read; at the next, resets (RST_STREAM; TCP RST)
//	cut.internal:7006         echoes one read; at the next, drops the TCP
//	                          connection (no close_notify, no END_STREAM)
//
// Tokens are "gen<N>.<serial>"; Restart bumps N so older tokens get 401.
type fakeProxy struct {
	srv    *httptest.Server
	Addr   string
	URL    *url.URL
	CAPool *x509.CertPool

	gen     atomic.Int64
	serial  atomic.Int64
	logins  atomic.Int64
	connect atomic.Int64
	mu      sync.Mutex
	lastTok string
	conns   map[net.Conn]bool // open client connections, for cutting them
	// connectsFrom counts the CONNECTs of each client connection (by its
	// address).
	connectsFrom map[string]int
}

func startFakeProxy(t testing.TB, h2 bool) *fakeProxy {
	t.Helper()
	p := &fakeProxy{}
	p.gen.Store(1)
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.EnableHTTP2 = h2
	p.srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.conns == nil {
			p.conns = map[net.Conn]bool{}
		}
		if st == http.StateClosed || st == http.StateHijacked {
			delete(p.conns, c)
		} else {
			p.conns[c] = true
		}
	}
	// The wrong-CA cases make the server log failed handshakes: expected.
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	p.Addr = p.srv.Listener.Addr().String()
	p.URL = &url.URL{Scheme: "https", Host: p.Addr}
	p.CAPool = x509.NewCertPool()
	p.CAPool.AddCert(p.srv.Certificate())
	return p
}

// Restart invalidates every token issued so far.
func (p *fakeProxy) Restart(testing.TB) { p.gen.Add(1) }

func (p *fakeProxy) valid(tok string) bool {
	return strings.HasPrefix(tok, fmt.Sprintf("gen%d.", p.gen.Load()))
}

func (p *fakeProxy) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.serveConnect(w, r)
	case r.URL.Path == "/.pomerium/api/v1/login":
		p.logins.Add(1)
		ru := r.URL.Query().Get("pomerium_redirect_uri")
		u, err := url.Parse(ru)
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
			http.Error(w, "bad pomerium_redirect_uri", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "https://%s/.pomerium/sign_in?%s", r.Host, url.Values{"redirect": {ru}}.Encode())
	case r.URL.Path == "/.pomerium/sign_in":
		tok := fmt.Sprintf("gen%d.%d", p.gen.Load(), p.serial.Add(1))
		http.Redirect(w, r, r.URL.Query().Get("redirect")+"/?pomerium_jwt="+tok, http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func (p *fakeProxy) serveConnect(w http.ResponseWriter, r *http.Request) {
	p.connect.Add(1)
	p.mu.Lock()
	if p.connectsFrom == nil {
		p.connectsFrom = map[string]int{}
	}
	p.connectsFrom[r.RemoteAddr]++
	p.mu.Unlock()
	tok, hasTok := strings.CutPrefix(r.Header.Get("Authorization"), "Pomerium ")
	known := map[string]bool{"echo.internal:7000": true, "admin-echo.internal:7001": true, "down.internal:7002": true, "loop.internal:7003": true, "sink.internal:7004": true, "rst.internal:7005": true, "cut.internal:7006": true}
	switch {
	case !known[r.Host]:
		http.Error(w, "no route", http.StatusNotFound)
		return
	case r.Host == "loop.internal:7003" || !hasTok:
		w.Header().Set("Location", "https://"+p.Addr+"/.pomerium/sign_in")
		w.WriteHeader(http.StatusFound)
		return
	case !p.valid(tok):
		http.Error(w, "invalid or expired credentials", http.StatusUnauthorized)
		return
	case r.Host == "admin-echo.internal:7001":
		http.Error(w, "denied", http.StatusForbidden)
		return
	case r.Host == "down.internal:7002":
		http.Error(w, "upstream unreachable", http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	p.lastTok = tok
	p.mu.Unlock()
	sink := r.Host == "sink.internal:7004"
	die := map[string]string{"rst.internal:7005": "rst", "cut.internal:7006": "cut"}[r.Host]
	if r.ProtoMajor == 2 {
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		if die != "" {
			echoOne(flushWriter{w, rc}, r.Body)
			r.Body.Read(make([]byte, 1)) // the client has the echo
			if die == "cut" {
				p.cutAll()
				return
			}
			panic(http.ErrAbortHandler) // RST_STREAM
		}
		if sink {
			io.Copy(io.Discard, r.Body)
			return
		}
		_ = rc.EnableFullDuplex()
		io.Copy(flushWriter{w, rc}, r.Body)
		return
	}
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	if sink {
		io.Copy(io.Discard, brw)
		return
	}
	if die != "" {
		echoOne(c, brw)
		brw.Read(make([]byte, 1)) // the client has the echo
		raw := c.(*tls.Conn).NetConn()
		if die == "rst" {
			raw.(*net.TCPConn).SetLinger(0)
		}
		raw.Close() // no close_notify
		return
	}
	io.Copy(c, bufio.NewReader(brw))
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// cutAll drops every client connection at the TCP level, as a proxy
// that dies does.
func (p *fakeProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if tc, ok := c.(*tls.Conn); ok {
			c = tc.NetConn()
		}
		c.Close()
	}
}

// echoOne echoes what one read returns.
func echoOne(w io.Writer, r io.Reader) {
	buf := make([]byte, 1024)
	if n, err := r.Read(buf); n > 0 && err == nil {
		w.Write(buf[:n])
	}
}

type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.rc.Flush()
	}
	return n, err
}

// fakeBrowser follows the fake's sign-in redirect to the callback.
func fakeBrowser(p *fakeProxy) *browser { return &browser{pool: p.CAPool} }
