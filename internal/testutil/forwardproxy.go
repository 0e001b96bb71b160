package testutil

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// ForwardProxy is a loopback HTTP CONNECT forward proxy, the kind
// HTTPS_PROXY names, that records the targets it was asked for. This test
// network has no DNS: *.localhost and the names in Hosts are sent to
// loopback, so nothing leaves the machine.
type ForwardProxy struct {
	URL *url.URL // http://127.0.0.1:port

	hosts   map[string]string
	mu      sync.Mutex
	targets []string
}

// StartForwardProxy starts the proxy until the test ends; hosts maps
// extra names to loopback addresses.
func StartForwardProxy(t testing.TB, hosts map[string]string) *ForwardProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ForwardProxy{URL: &url.URL{Scheme: "http", Host: l.Addr().String()}, hosts: hosts}
	srv := &http.Server{Handler: http.HandlerFunc(p.serve)}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

func (p *ForwardProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.targets = append(p.targets, r.Host)
	p.mu.Unlock()
	addr := r.Host
	if h, port, err := net.SplitHostPort(addr); err == nil {
		switch {
		case p.hosts[h] != "":
			addr = net.JoinHostPort(p.hosts[h], port)
		case strings.HasSuffix(h, ".localhost"):
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	up, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer up.Close()
	w.WriteHeader(http.StatusOK)
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, brw); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}

// Uses is how many CONNECTs the proxy has had.
func (p *ForwardProxy) Uses() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.targets)
}

// Count is how many CONNECTs asked for target (host:port).
func (p *ForwardProxy) Count(target string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, tg := range p.targets {
		if tg == target {
			n++
		}
	}
	return n
}

// Last is the latest CONNECT's target ("" before any).
func (p *ForwardProxy) Last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.targets) == 0 {
		return ""
	}
	return p.targets[len(p.targets)-1]
}
