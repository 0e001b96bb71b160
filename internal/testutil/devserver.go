package testutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server"
	"github.com/porthole-dev/porthole/server/config"
)

// running is the per-DevServer state; DevServer itself is the shared
// contract in testutil.go, so its handles live here, keyed by pointer.
type running struct {
	opts   devOptions
	srv    *server.Server
	cancel context.CancelFunc
	done   chan error
	logw   *testLogWriter
}

var (
	runMu   sync.Mutex
	runByDS = map[*DevServer]*running{}
)

// Server is the in-process *server.Server behind d (tests can mint
// tokens with its Keys).
func (d *DevServer) Server() *server.Server {
	runMu.Lock()
	defer runMu.Unlock()
	if r := runByDS[d]; r != nil {
		return r.srv
	}
	return nil
}

// StartDevServer starts a dev server (see DevServer) and registers its
// shutdown with t.Cleanup.
func StartDevServer(t testing.TB, opts ...DevOption) *DevServer {
	t.Helper()
	var o devOptions
	for _, f := range opts {
		f(&o)
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	if o.addr == "" {
		o.addr = "127.0.0.1:0"
	}
	d := &DevServer{Dir: o.dir}
	r, err := startRunning(t, d, o)
	if err != nil {
		t.Fatalf("starting dev server: %v", err)
	}
	runMu.Lock()
	runByDS[d] = r
	runMu.Unlock()
	t.Cleanup(d.Stop)
	return d
}

func startRunning(t testing.TB, d *DevServer, o devOptions) (*running, error) {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", o.addr, err)
	}
	addr := ln.Addr().String()
	o.addr = addr // a restart comes back on the same port
	lw := &testLogWriter{t: t}
	var cfg *config.Config
	if o.config != "" {
		if cfg, err = config.Parse([]byte(o.config)); err != nil {
			ln.Close()
			return nil, fmt.Errorf("WithConfig: %w", err)
		}
	}
	srv, err := server.New(server.Options{
		Dev: true, DevDir: o.dir, DevAutoLogin: o.autoLogin, Address: addr, Config: cfg,
		Logger:      slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug})),
		DevTokenTTL: o.authn.tokenTTL, Store: o.authn.store,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	d.Addr = addr
	d.URL = &url.URL{Scheme: "https", Host: addr}
	d.CAFile = srv.CAFile()
	d.CAPool = srv.CAPool()
	r := &running{opts: o, srv: srv, cancel: cancel, done: done, logw: lw}
	if err := waitHealthy(d.URL.String()+"/healthz", d.CAPool, done); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

func waitHealthy(u string, pool *x509.CertPool, done <-chan error) error {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		select {
		case err := <-done:
			return fmt.Errorf("server stopped before it was ready: %v", err)
		case <-tick.C:
		}
	}
	return fmt.Errorf("dev server not healthy at %s within 2m: %w", u, last)
}

func (r *running) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r.srv.Shutdown(ctx)
	r.cancel()
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	r.logw.close()
}

// Restart stops the server and starts it again on the same address and
// dev dir (same CA) with freshly generated session keys, so tokens
// issued before the restart are rejected with 401.
func (d *DevServer) Restart(t testing.TB) {
	t.Helper()
	runMu.Lock()
	r := runByDS[d]
	delete(runByDS, d)
	runMu.Unlock()
	if r == nil {
		t.Fatal("Restart: dev server is not running")
	}
	r.stop()
	// Linux frees a closed listener's port at once (Go sets SO_REUSEADDR).
	nr, err := startRunning(t, d, r.opts)
	if err != nil {
		t.Fatalf("restarting dev server: %v", err)
	}
	runMu.Lock()
	runByDS[d] = nr
	runMu.Unlock()
}

// Stop shuts the server down.
func (d *DevServer) Stop() {
	runMu.Lock()
	r := runByDS[d]
	delete(runByDS, d)
	runMu.Unlock()
	if r != nil {
		r.stop()
	}
}

// testLogWriter sends server logs to t.Log until the server stops, so a
// late log line never panics a finished test.
type testLogWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Logf("server: %s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testLogWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}
