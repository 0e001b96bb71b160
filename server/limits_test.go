package server

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/config"
)

// TestDefaultLimits: with nothing configured, every server-wide timeout
// and cap is set, and idle connections go within three minutes.
func TestDefaultLimits(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	s.setLimits((&config.Config{}).Limits.Effective())
	srv := s.newHTTPServer(context.Background())
	if srv.IdleTimeout <= 0 || srv.IdleTimeout > 3*time.Minute {
		t.Errorf("IdleTimeout %v; want set and at most 3m", srv.IdleTimeout)
	}
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout, "WriteTimeout": srv.WriteTimeout} {
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("%s %v; want set, at most 5m", name, d)
		}
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes %d; want set, at most 1 MiB", srv.MaxHeaderBytes)
	}
	h2 := srv.HTTP2
	if h2 == nil || h2.MaxConcurrentStreams <= 0 || h2.MaxReceiveBufferPerConnection <= 0 || h2.MaxReceiveBufferPerStream <= 0 || h2.MaxReadFrameSize <= 0 {
		t.Fatalf("HTTP2 %+v; want streams and buffers bounded", h2)
	}
	if s.lim().MaxConnections <= 0 {
		t.Errorf("MaxConnections %d; want a cap", s.lim().MaxConnections)
	}
}
