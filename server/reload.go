package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/routing"
)

// reloadDebounce gathers an editor's burst of writes into one reload.
const reloadDebounce = 100 * time.Millisecond

// Reload re-reads the config file and applies what changed: routes and
// policies, certificates, the listen address and the metrics listener.
// A config that does not load (or whose routes clash) is refused whole:
// the running configuration stays, and the error says what is wrong.
// Identity provider, secret and cookie settings need a restart; a
// change to them is logged.
func (s *Server) Reload(ctx context.Context) error {
	if s.configFile == "" {
		return errors.New("no config file to reload (started without --config)")
	}
	err := s.reload(ctx)
	if err != nil {
		s.metrics.Reload(false)
		s.log.Error("config reload refused; the running configuration stays", "file", s.configFile, "err", err)
		return err
	}
	s.metrics.Reload(true)
	return nil
}

func (s *Server) reload(ctx context.Context) error {
	data, err := os.ReadFile(s.configFile)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	cfg, err := config.ParseEnv(data, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("%s: %w", s.configFile, err)
	}
	if err := cfg.LoadCertificates(); err != nil {
		return fmt.Errorf("%s: %w", s.configFile, err)
	}
	if !s.dev && len(cfg.TLSCertificates) == 0 {
		return fmt.Errorf("%s: no server certificate (certificates, certificate_file or certificate)", s.configFile)
	}
	old := s.cfg.Load()
	if err := s.table.Replace(ctx, "config", routing.Static(cfg.Routes)); err != nil {
		return fmt.Errorf("%s: %w", s.configFile, err)
	}
	s.lastConfig.Store(&data)
	s.cfg.Store(cfg)
	s.metrics.Routes(len(s.table.Load().All()))
	if !s.dev {
		s.setCerts(cfg.TLSCertificates, cfg.CodecType == "http1")
	}
	for _, k := range restartOnly(old, cfg) {
		s.log.Warn("config: this setting applies on restart only", "key", k)
	}
	if !s.dev && s.addressFromConfig && cfg.Address != old.Address {
		addr := cfg.Address
		if addr == "" {
			addr = config.DefaultAddress
		}
		if err := s.relisten(addr); err != nil {
			s.log.Error("config: could not move the listener; still serving on the old address", "address", addr, "err", err)
		}
	}
	if cfg.MetricsAddress != old.MetricsAddress || cfg.MetricsBasicAuth != old.MetricsBasicAuth {
		s.stopMetrics(ctx)
		if cfg.MetricsAddress != "" {
			if err := s.serveMetrics(cfg.MetricsAddress, cfg.MetricsBasicAuth); err != nil {
				s.log.Error("config: metrics listener", "address", cfg.MetricsAddress, "err", err)
			}
		}
	}
	s.log.Info("config reloaded", "file", s.configFile, "routes", len(cfg.Routes))
	return nil
}

// restartOnly names the changed keys that apply on restart only.
func restartOnly(a, b *config.Config) []string {
	var out []string
	add := func(k string, changed bool) {
		if changed {
			out = append(out, k)
		}
	}
	add("idp_provider_url", a.IdpProviderURL != b.IdpProviderURL)
	add("idp_client_id", a.IdpClientID != b.IdpClientID)
	add("idp_client_secret", a.IdpClientSecret != b.IdpClientSecret)
	add("idp_scopes", !slices.Equal(a.IdpScopes, b.IdpScopes))
	add("shared_secret", a.SharedSecret != b.SharedSecret)
	add("cookie_secret", a.CookieSecret != b.CookieSecret)
	add("cookie_expire", a.CookieExpire != b.CookieExpire)
	add("programmatic_redirect_domain_whitelist", !slices.Equal(a.ProgrammaticRedirectDomainWhitelist, b.ProgrammaticRedirectDomainWhitelist))
	add("timeout_read/timeout_write/timeout_idle/max_*", a.Limits != b.Limits)
	return out
}

// relisten serves on addr too, then closes the old listener; open
// connections (tunnels, requests) on it carry on.
func (s *Server) relisten(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	srv, old := s.httpSrv, s.ln
	maxConns := s.limits.MaxConnections
	if srv == nil || s.closing {
		s.mu.Unlock()
		ln.Close()
		return errors.New("server is not serving")
	}
	s.ln = ln
	s.moved = append(s.moved, old)
	s.mu.Unlock()
	go srv.ServeTLS(newLimitListener(ln, maxConns, s.log), "", "")
	s.log.Info("listener moved", "from", old.Addr().String(), "to", ln.Addr().String())
	old.Close()
	return nil
}

// Addr is the address the server listens on now.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// notifyHUP registers for SIGHUP before Serve reports serving, so a
// signal sent from then on reloads rather than kills the process.
func notifyHUP() chan os.Signal {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup
}

// startWatch watches the config file's directory, from New on, so no
// edit made after New returns is missed. The directory is watched, not
// the file: editors and Kubernetes replace the file by rename, which a
// watch on the file itself would lose.
func (s *Server) startWatch() {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(s.configFile)); err != nil {
			w.Close()
		}
	}
	if err != nil {
		s.log.Warn("config: not watching the file; reload with SIGHUP", "file", s.configFile, "err", err)
		return
	}
	s.watcher = w
}

// watchConfig reloads on SIGHUP and when the config file changes, until
// ctx ends. Events that leave the file's bytes as last applied are
// ignored.
func (s *Server) watchConfig(ctx context.Context, hup chan os.Signal) {
	defer signal.Stop(hup)
	var events chan fsnotify.Event
	var errs chan error
	if w := s.watcher; w != nil {
		defer w.Close()
		events, errs = w.Events, w.Errors
	}
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			s.log.Info("config: SIGHUP, reloading", "file", s.configFile)
			s.Reload(ctx)
		case err := <-errs:
			s.log.Warn("config: watch error", "err", err)
		case <-events:
			debounce = time.After(reloadDebounce)
		case <-debounce:
			debounce = nil
			data, err := os.ReadFile(s.configFile)
			if last := s.lastConfig.Load(); err == nil && last != nil && bytes.Equal(*last, data) {
				continue
			}
			s.Reload(ctx)
		}
	}
}
