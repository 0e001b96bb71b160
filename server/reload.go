package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/routing"
)

// reloadDebounce gathers an editor's burst of writes into one reload.
const reloadDebounce = 100 * time.Millisecond

// Reload re-reads the config file and applies what changed: routes and
// policies, certificates, the listen address, the metrics listener,
// sign-in (identity provider, authenticate_service_url, cookie_expire,
// ...), api_admins, log_level and max_connections; see liveKeys. A
// config that does not load (or whose routes clash) is refused whole:
// the running configuration stays, and the error says what is wrong.
// The few keys that need a restart (restartKeys: secrets, storage,
// timeouts) are named in one warning when they change.
func (s *Server) Reload(ctx context.Context) error {
	if s.configFile == "" {
		return errors.New("no config file to reload (started without --config)")
	}
	s.configMu.Lock()
	defer s.configMu.Unlock()
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
	data, err := config.ReadFile(s.configFile)
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
	changed := config.ChangedKeys(old, cfg)
	// Built before anything is applied: a failure refuses the reload whole.
	si, err := s.newSignIn(cfg, changed)
	if err != nil {
		return fmt.Errorf("%s: %w", s.configFile, err)
	}
	if err := s.table.Replace(ctx, "config", routing.Static(cfg.Routes)); err != nil {
		return fmt.Errorf("%s: %w", s.configFile, err)
	}
	s.lastConfig.Store(&data)
	s.cfg.Store(cfg)
	s.metrics.Routes(len(s.table.Load().All()))
	if !s.dev {
		s.setCerts(cfg.TLSCertificates, cfg.CodecType == "http1")
	}
	if si != nil {
		s.useSignIn(si)
		s.log.Info("config: sign-in settings applied", "keys", strings.Join(intersect(changed, signInKeys), ","))
	}
	s.applyLiveSettings(cfg, changed)
	s.reportRestartKeys(cfg)
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

// liveKeys apply on reload. A test holds every accepted key to be in
// exactly one of liveKeys and restartKeys.
var liveKeys = append([]string{
	"address", "routes", "policy",
	"certificate_file", "certificate_key_file", "certificate", "certificate_key", "certificates", "codec_type",
	"metrics_address", "metrics_basic_auth",
	// Route defaults: copied into every route, which the reload rebuilds.
	"default_upstream_timeout", "jwt_claims_headers", "pass_identity_headers", "set_response_headers",
	"skip_xff_append", "xff_num_trusted_hops", "google_cloud_serverless_authentication_service_account",
	// Read per connection or request.
	"downstream_mtls", "client_ca", "client_ca_file",
	"api_admins", "log_level", "proxy_log_level",
	// New connections get them (a new http.Server takes the listener
	// over); max_connections counts from the next accept.
	"max_connections", "timeout_read", "timeout_write", "timeout_idle", "timeout_read_header", "max_header_bytes",
	// Accepted only with the one value the server has: nothing to apply.
	"services", "cookie_name", "cookie_secure", "cookie_http_only", "cookie_same_site",
}, signInKeys...)

// restartKeys apply on restart only: the secrets seal sessions, tokens
// and the store's secrets at rest (a live change would strand them),
// the store is opened once, and so is the plain-HTTP redirect listener.
var restartKeys = []string{
	"shared_secret", "shared_secret_file", "cookie_secret", "cookie_secret_file",
	"data_dir", "databroker_storage_type", "databroker_storage_connection_string",
	"http_redirect_addr",
}

// devRestartKeys are the sign-in keys a --dev server reads at start
// (its provider is built in around them).
var devRestartKeys = []string{"authenticate_service_url", "signout_redirect_url", "cookie_expire"}

// applyLiveSettings applies the settings that are neither routes,
// certificates nor listeners.
func (s *Server) applyLiveSettings(cfg *config.Config, changed []string) {
	if s.api != nil && slices.Contains(changed, "api_admins") {
		s.api.SetAdmins(s.apiAdmins(cfg))
	}
	if s.logLevel != nil && s.logLevelFromConfig && slices.Contains(changed, "log_level") {
		var l slog.Level // "" (removed): info
		l.UnmarshalText([]byte(cfg.LogLevel))
		s.logLevel.Set(l)
	}
	was, now := s.lim(), cfg.Limits.Effective()
	if now == was {
		return
	}
	s.setLimits(now) // max_connections: counted per accept, so at once
	was.MaxConnections = now.MaxConnections
	if now != was { // timeouts or the header limit: a new http.Server
		s.handOver()
		s.log.Info("config: new connections get the new timeouts and header limit; open ones keep theirs")
	}
}

// reportRestartKeys warns, once per change of the set, which keys
// differ from the running server's start and so wait for a restart.
// Reverting them clears the warning.
func (s *Server) reportRestartKeys(cfg *config.Config) {
	wait := intersect(config.ChangedKeys(s.startCfg, cfg), restartKeys)
	if s.dev {
		wait = append(wait, intersect(config.ChangedKeys(s.startCfg, cfg), devRestartKeys)...)
		slices.Sort(wait)
	}
	if slices.Equal(wait, s.restartKeys) {
		return
	}
	s.restartKeys = wait
	if len(wait) == 0 {
		s.log.Info("config: every setting in the file is applied; no restart needed")
		return
	}
	s.log.Warn("config: these changed settings apply on restart only; restart pomerium-server to apply them (the rest of the file is applied)",
		"keys", strings.Join(wait, ","))
}

// intersect is the keys of a that are in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, k := range a {
		if slices.Contains(b, k) {
			out = append(out, k)
		}
	}
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
	srv, old, oldFeed := s.httpSrv, s.ln, s.feed
	if srv == nil || s.closing {
		s.mu.Unlock()
		ln.Close()
		return errors.New("server is not serving")
	}
	feed := newAcceptFeed(newLimitListener(ln, &s.maxConns, s.log))
	fl := feed.listener()
	s.ln, s.feed, s.feeds, s.curLns = ln, feed, append(s.feeds, feed), append(s.curLns, fl)
	s.moved = append(s.moved, old)
	s.mu.Unlock()
	go srv.ServeTLS(fl, "", "")
	s.log.Info("listener moved", "from", old.Addr().String(), "to", ln.Addr().String())
	oldFeed.Close()
	return nil
}

// handOver serves the listener with a new http.Server built with the
// limits now in force (Go's cannot change its timeouts while serving):
// new connections get them, open ones finish on the old server with the
// limits they started with.
func (s *Server) handOver() {
	s.mu.Lock()
	old, oldLns, feed := s.httpSrv, s.curLns, s.feed
	if old == nil || s.closing || feed == nil {
		s.mu.Unlock()
		return // not serving yet: Serve builds its server with them
	}
	srv := s.newHTTPServer(s.serveCtx)
	fl := feed.listener()
	s.httpSrv, s.curLns, s.retired = srv, []*feedListener{fl}, append(s.retired, old)
	s.mu.Unlock()
	go srv.ServeTLS(fl, "", "")
	for _, l := range oldLns {
		l.Close()
	}
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
			data, err := config.ReadFile(s.configFile)
			if last := s.lastConfig.Load(); err == nil && last != nil && bytes.Equal(*last, data) {
				continue
			}
			s.Reload(ctx)
		}
	}
}
