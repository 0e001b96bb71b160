// Package upstreams runs the sample upstreams of pomerium-server --dev on
// 127.0.0.1 random ports: a TCP echo, an HTTP "verify" service answering
// JSON of the request headers it received, and a small public page.
//
//	u, err := upstreams.Start(logger)
//	defer u.Close()
//	// tcp://u.EchoAddr, http://u.VerifyAddr, http://u.PublicAddr
package upstreams

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Set is the running sample upstreams.
type Set struct {
	EchoAddr   string
	VerifyAddr string
	PublicAddr string

	echoLn  net.Listener
	servers []*http.Server
	wg      sync.WaitGroup
}

// VerifyResponse is what the verify upstream answers.
type VerifyResponse struct {
	Method  string              `json:"method"`
	Host    string              `json:"host"`
	Path    string              `json:"path"`
	Query   string              `json:"query"`
	Headers map[string][]string `json:"headers"`
}

// Start listens on three loopback ports and serves them.
func Start(log *slog.Logger) (*Set, error) {
	s := &Set{}
	var err error
	if s.echoLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("starting echo upstream: %w", err)
	}
	s.EchoAddr = s.echoLn.Addr().String()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.serveEcho() }()

	verify := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(VerifyResponse{
			Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: r.Header,
		})
	})
	public := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>public</title><h1>Public upstream</h1><p>No sign-in needed to see this page.</p>\n")
	})
	for _, h := range []struct {
		addr *string
		h    http.Handler
	}{{&s.VerifyAddr, verify}, {&s.PublicAddr, public}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("starting http upstream: %w", err)
		}
		*h.addr = ln.Addr().String()
		srv := &http.Server{Handler: h.h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		s.servers = append(s.servers, srv)
		s.wg.Add(1)
		go func() { defer s.wg.Done(); srv.Serve(ln) }()
	}
	return s, nil
}

func (s *Set) serveEcho() {
	for {
		c, err := s.echoLn.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
			if cw, ok := c.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
		}()
	}
}

// Close stops every upstream.
func (s *Set) Close() error {
	var errs []error
	if s.echoLn != nil {
		errs = append(errs, s.echoLn.Close())
	}
	for _, srv := range s.servers {
		errs = append(errs, srv.Close())
	}
	s.wg.Wait()
	return errors.Join(errs...)
}
