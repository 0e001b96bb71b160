package server

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/porthole-dev/porthole/server/metrics"
	"github.com/porthole-dev/porthole/server/routing"
)

// Metrics are the server's collectors (others register theirs on
// Metrics().Registry()).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// MetricsAddr is where /metrics is served ("" when metrics_address is
// not set or Serve has not started it).
func (s *Server) MetricsAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// serveMetrics starts the plain-HTTP metrics listener on addr.
func (s *Server) serveMetrics(addr, basicAuth string) error {
	var user, pass string
	if basicAuth != "" {
		b, err := base64.StdEncoding.DecodeString(basicAuth)
		if err != nil {
			return errors.New("metrics_basic_auth: want base64 of user:password")
		}
		user, pass, _ = strings.Cut(string(b), ":")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.metrics.Handler(user, pass), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.metricsLn, s.metricsSrv = ln, srv
	s.mu.Unlock()
	go srv.Serve(ln)
	s.log.Info("serving metrics", "address", ln.Addr().String(), "basic_auth", user != "")
	return nil
}

func (s *Server) stopMetrics(ctx context.Context) {
	s.mu.Lock()
	srv := s.metricsSrv
	s.metricsSrv, s.metricsLn = nil, nil
	s.mu.Unlock()
	if srv != nil {
		srv.Shutdown(ctx)
	}
}

// serveRouteObserved serves a route request and records it.
func (s *Server) serveRouteObserved(w http.ResponseWriter, r *http.Request, rt *routing.Route) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	start := time.Now()
	s.serveRoute(rec, r, rt)
	s.metrics.Request(rt.Name, rec.status, time.Since(start))
}

// countSignIns records callback outcomes: a redirect onwards is a
// completed sign-in, an error page a failure.
func (s *Server) countSignIns(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next(rec, r)
		switch {
		case rec.status == http.StatusFound || rec.status == http.StatusSeeOther:
			s.metrics.SignIn(true)
		case rec.status >= 400:
			s.metrics.SignIn(false)
		}
	}
}
