// Package server is pomerium-server: routes, policies, OIDC sign-in, the
// routes portal and its JSON API, the login API, CONNECT tunnels and the
// HTTP reverse proxy. With --dev it runs alone with its own CA, a built-in
// OpenID provider and sample upstreams.
//
// In-process use (tests):
//
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	s, err := server.New(server.Options{Dev: true, DevDir: dir, Address: ln.Addr().String()})
//	go s.Serve(ctx, ln)
//	defer s.Shutdown(context.Background())
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/porthole-dev/porthole/internal/adaptprocs"
	"github.com/porthole-dev/porthole/server/api"
	"github.com/porthole-dev/porthole/server/authn"
	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/devca"
	"github.com/porthole-dev/porthole/server/devidp"
	"github.com/porthole-dev/porthole/server/metrics"
	"github.com/porthole-dev/porthole/server/routing"
	"github.com/porthole-dev/porthole/server/session"
	"github.com/porthole-dev/porthole/server/upstreams"
)

const (
	defaultDialTimeout = 30 * time.Second
	assertionTTL       = 5 * time.Minute
)

// Options configure a Server.
type Options struct {
	// Config is the loaded configuration; nil in --dev without --config.
	Config *config.Config
	// ConfigFile, when set, is watched and re-read on SIGHUP: route and
	// policy changes apply live (see reload.go).
	ConfigFile string
	// AddressFromConfig says Address came from the config (not a flag),
	// so a reload that changes address moves the listener.
	AddressFromConfig bool
	// Address is the public host:port of this server. In dev mode it is
	// the listen address and names the routes and the issuer.
	Address string

	Dev          bool
	DevDir       string
	DevAutoLogin string
	DevUsers     []devidp.User // nil: devidp.DefaultUsers

	// DevTokenTTL is the built-in provider's token lifetime (0: an hour);
	// tests shorten it to see sessions refresh.
	DevTokenTTL time.Duration

	// Store keeps sign-in state instead of the configured store (tests).
	Store authn.Store

	// DataDir holds the embedded store (--data-dir; else data_dir, else
	// DevDir in dev mode; none at all: an in-memory store).
	DataDir string

	checkOnly bool // Check: validate, open nothing

	// IdPClient talks to a configured identity provider (nil:
	// http.DefaultClient); tests pass one trusting their CA.
	IdPClient *http.Client

	// LogLevel, when set, is the level the API's logLevel setting changes.
	LogLevel *slog.LevelVar
	// LogLevelFromConfig: no --log-level flag, so a reload that changes
	// log_level sets LogLevel.
	LogLevelFromConfig bool

	Logger *slog.Logger // nil: discard
	// Banner receives the dev-mode start-up notes (CA path, portal URL).
	Banner io.Writer
}

// Server is a configured pomerium-server, ready to Serve.
type Server struct {
	log     *slog.Logger
	address string
	storage *storage
	// table is the live route table: every request loads it once.
	table       *routing.Live
	keys        *session.Keys
	certs       atomic.Pointer[certSet]
	metrics     *metrics.Metrics
	configFile  string
	cfg         atomic.Pointer[config.Config] // the file's config as last applied
	startCfg    *config.Config                // the config at start (restart-only keys)
	restartKeys []string                      // restart-only keys last reported (reload.go)
	lastConfig  atomic.Pointer[[]byte]        // its bytes
	dev         bool
	// addressFromConfig: the listen address is the config's (no
	// --address), so a reload may move it.
	addressFromConfig bool
	// signin is the sign-in service in use; a reload that changes sign-in
	// settings swaps in a new one (signin_live.go).
	signin    atomic.Pointer[signIn]
	authnOpts authn.Options                 // New's draft of the first one's options
	idpClient *http.Client                  // Options.IdPClient
	limits    atomic.Pointer[config.Limits] // effective: defaults filled in (lim)
	maxConns  atomic.Int64                  // max_connections, live (reload.go)

	// Dev-mode parts (nil otherwise).
	ca        *devca.CA
	upstreams *upstreams.Set
	idp       *devidp.Provider

	// The management API (nil without a store); its routes are the
	// table's "api" source.
	api      *api.API
	logLevel *slog.LevelVar
	// logLevelFromConfig: log_level changes apply on reload (no flag).
	logLevelFromConfig bool
	reloadMu           sync.Mutex
	configMu           sync.Mutex // one config file reload at a time (reload.go)

	mu         sync.Mutex
	httpSrv    *http.Server
	metricsLn  net.Listener
	metricsSrv *http.Server
	ln         net.Listener    // the listener in use
	feed       *acceptFeed     // ln's, shared by the servers that serve it (handoff.go)
	feeds      []*acceptFeed   // every feed made, closed by Shutdown
	curLns     []*feedListener // httpSrv's views of the feeds
	retired    []*http.Server  // servers handed over from (new limits); their connections finish
	serveCtx   context.Context // Serve's
	moved      []net.Listener  // closed by a listener move, not by Shutdown
	stopWatch  context.CancelFunc
	watcher    *fsnotify.Watcher // the config file's directory (reload.go)
	extraSrvs  []*http.Server    // http_redirect_addr
	closing    bool
	done       chan struct{} // closed by Shutdown
	doneOnce   sync.Once
	tunnels    map[*tunnelHandle]struct{}
	stopBG     context.CancelFunc // background work: IdP discovery
	bg         context.Context    // its context (nil before Serve)
}

// New builds the server: keys, TLS, identity provider client and, in
// dev mode, the CA, built-in provider, sample upstreams and routes.
func New(opts Options) (*Server, error) {
	s := &Server{log: opts.Logger, address: opts.Address, done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	cfg := opts.Config
	if cfg == nil {
		if !opts.Dev {
			return nil, errors.New("no configuration: pass --config FILE or run with --dev")
		}
		cfg = &config.Config{}
	}
	if s.address == "" {
		s.address = cfg.Address
	}
	s.setLimits(cfg.Limits.Effective())
	s.table = routing.NewLive(s.log)
	s.metrics = metrics.New()
	s.configFile = opts.ConfigFile
	s.cfg.Store(cfg)
	s.startCfg = cfg
	s.logLevelFromConfig = opts.LogLevelFromConfig
	s.dev = opts.Dev
	s.addressFromConfig = opts.AddressFromConfig
	if s.configFile != "" {
		if data, err := config.ReadFile(s.configFile); err == nil {
			s.lastConfig.Store(&data)
		}
		s.startWatch()
	}

	// Secrets from --config apply in dev mode too: a dev server sharing a
	// PostgreSQL store with a configured replica must read its sessions.
	var err error
	if s.keys, err = Keys(cfg); err != nil {
		return nil, err
	}
	s.idpClient = opts.IdPClient
	s.authnOpts = s.signInOptions(cfg)

	if opts.Dev {
		if err := s.setupDev(opts); err != nil {
			s.closeParts()
			return nil, err
		}
	}
	s.table.SetSource("config", routing.Static(cfg.Routes))
	if err := s.table.Rebuild(context.Background()); err != nil {
		s.closeParts()
		if opts.Dev {
			return nil, fmt.Errorf("--config routes clash with the dev routes (echo.internal:7000, admin-echo.internal:7001, verify/public.localhost): %w", err)
		}
		return nil, err
	}
	if opts.Dev {
		return s.finish(opts, cfg)
	}
	if err := cfg.LoadCertificates(); err != nil {
		s.closeParts()
		return nil, err
	}
	if len(cfg.TLSCertificates) == 0 {
		s.closeParts()
		return nil, errors.New("no server certificate: set certificates, certificate_file/certificate_key_file or certificate/certificate_key (or run with --dev for a local CA)")
	}
	s.setCerts(cfg.TLSCertificates, cfg.CodecType == "http1")
	if err := checkIdP(cfg); err != nil {
		return nil, err
	}
	if s.authnOpts.AuthenticateURL == nil {
		s.log.Warn("authenticate_service_url is not set: every host signs in for itself, so the identity provider needs https://<each host>/oauth2/callback as a redirect URI")
	}
	s.authnOpts.IdP = s.idpConfig(cfg)
	return s.finish(opts, cfg)
}

// finish opens the store (New's last step, so no earlier failure leaves
// it open) and starts sign-in on it.
func (s *Server) finish(opts Options, cfg *config.Config) (*Server, error) {
	if _, err := s.withStorage(opts, cfg); err != nil {
		return nil, err
	}
	switch {
	case opts.Store != nil:
		s.authnOpts.Store = opts.Store
	case s.storage != nil:
		s.authnOpts.Store = authn.FromCache(s.storage.cache)
	default: // Check: nothing is opened
		s.authnOpts.Store = authn.NewMemoryStore()
	}
	svc, err := authn.New(s.authnOpts)
	if err != nil {
		s.closeParts()
		return nil, err
	}
	s.signin.Store(&signIn{svc: svc, opts: s.authnOpts})
	return s, nil
}

// Keys are the server's keys from the config's shared_secret and
// cookie_secret (random ones when unset: sessions then end with the
// process, and replicas cannot share them).
func Keys(cfg *config.Config) (*session.Keys, error) {
	var secret []byte
	for _, kv := range []struct{ key, val string }{{"shared_secret", cfg.SharedSecret}, {"cookie_secret", cfg.CookieSecret}} {
		if kv.val == "" {
			continue
		}
		b := config.DecodeSecret(kv.val)
		if b == nil {
			return nil, fmt.Errorf("%s must be base64 of 32 random bytes (head -c32 /dev/urandom | base64)", kv.key)
		}
		secret = append(secret, b...)
	}
	keys, err := session.NewKeys(secret)
	if err != nil {
		return nil, err
	}
	if b := config.DecodeSecret(cfg.CookieSecret); b != nil {
		if err := keys.UseCookieSecret(b); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// outboundClient talks to the identity provider, trusting pool (nil:
// the system roots).
func outboundClient(pool *x509.CertPool) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true},
	}
}

// Check validates cfg as New would for a configured (non --dev) server
// (secrets, certificates, identity provider, routes) without serving.
func Check(cfg *config.Config) error {
	s, err := New(Options{Config: cfg, checkOnly: true})
	if err != nil {
		return err
	}
	s.closeParts()
	return nil
}

// CAPool is the dev CA (nil outside dev mode).
func (s *Server) CAPool() *x509.CertPool {
	if s.ca == nil {
		return nil
	}
	return s.ca.Pool
}

// CAFile is the dev CA's PEM file ("" outside dev mode).
func (s *Server) CAFile() string {
	if s.ca == nil {
		return ""
	}
	return s.ca.CertFile
}

// Routes are the routes served now (dev routes and the API's included).
func (s *Server) Routes() []config.Route { return s.table.Load().Routes() }

// RouteTable is the live route table. Other route sources (the
// management API) add themselves with SetSource and call Rebuild; a
// change feed calls Rebuild to apply changes (see package routing).
func (s *Server) RouteTable() *routing.Live { return s.table }

// Keys are the session and assertion keys.
func (s *Server) Keys() *session.Keys { return s.keys }

// IssueToken stores a session for c, valid for ttl, and returns a CLI
// token for it, as a sign-in would (tests).
func (s *Server) IssueToken(c session.Claims, ttl time.Duration) (string, error) {
	return s.auth().IssueToken(context.Background(), c, ttl)
}

// DevIdP is the built-in provider (nil outside dev mode): tests disable
// users with it.
func (s *Server) DevIdP() *devidp.Provider { return s.idp }

// Serve serves TLS on ln until ctx ends or Shutdown is called. It returns
// nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	cfg := s.cfg.Load()
	srv := s.newHTTPServer(ctx)
	s.mu.Lock()
	if s.httpSrv != nil {
		s.mu.Unlock()
		return errors.New("server already serving")
	}
	feed := newAcceptFeed(newLimitListener(ln, &s.maxConns, s.log))
	fl := feed.listener()
	s.httpSrv = srv
	s.ln, s.feed, s.feeds, s.curLns, s.serveCtx = ln, feed, append(s.feeds, feed), []*feedListener{fl}, ctx
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBG, s.bg = stopBG, bg
	s.mu.Unlock()
	s.startSignIn(s.signin.Load())
	if cfg.MetricsAddress != "" {
		if err := s.serveMetrics(cfg.MetricsAddress, cfg.MetricsBasicAuth); err != nil {
			return ListenError("metrics_address", cfg.MetricsAddress, err)
		}
	}
	if cfg.HTTPRedirectAddr != "" {
		if err := s.serveHTTPRedirect(cfg.HTTPRedirectAddr); err != nil {
			s.stopMetrics(context.Background())
			return ListenError("http_redirect_addr", cfg.HTTPRedirectAddr, err)
		}
	}
	s.metrics.Routes(len(s.table.Load().All()))
	if s.configFile != "" {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.mu.Lock()
		s.stopWatch = cancel
		s.mu.Unlock()
		go s.watchConfig(wctx, notifyHUP())
	}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(sctx)
	})
	defer stop()
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHeartbeat()
	go s.replicaHeartbeat(hbCtx)
	s.log.Info("serving", "address", ln.Addr().String())
	err := srv.ServeTLS(fl, "", "")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	s.mu.Lock()
	moved, handedOver, closing := slices.Contains(s.moved, ln), slices.Contains(s.retired, srv), s.closing
	s.mu.Unlock()
	if closing {
		return nil
	}
	if moved || handedOver {
		// The listener moved to another address, or another server took
		// it over (new limits): serve on until shutdown.
		<-s.done
		return nil
	}
	return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
}

// Shutdown stops accepting, closes open tunnels (they would otherwise
// hold the shutdown until their idle timeout), waits for requests up to
// ctx, then closes the sample upstreams.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	var srvs []*http.Server
	if s.httpSrv != nil {
		srvs = append(slices.Clone(s.retired), s.httpSrv)
	}
	feeds := s.feeds
	s.closing = true
	tunnels := s.tunnels
	s.tunnels = nil
	stopWatch := s.stopWatch
	if s.stopBG != nil {
		s.stopBG()
	}
	extra := s.extraSrvs
	s.extraSrvs = nil
	s.mu.Unlock()
	for _, e := range extra {
		e.Close()
	}
	if stopWatch != nil {
		stopWatch()
	}
	s.stopMetrics(ctx)
	s.doneOnce.Do(func() { close(s.done) })
	for t := range tunnels {
		t.close()
	}
	for _, f := range feeds {
		f.Close()
	}
	var err error
	for _, srv := range srvs {
		if e := srv.Shutdown(ctx); e != nil {
			srv.Close()
			err = errors.Join(err, e)
		}
	}
	s.closeParts()
	return err
}

// tunnelHandle lets Shutdown close a tunnel.
type tunnelHandle struct {
	once  sync.Once
	close func()
}

// trackTunnel registers closeFn until the returned release is called; ok
// is false when the server is shutting down.
func (s *Server) trackTunnel(closeFn func()) (release func(), ok bool) {
	h := &tunnelHandle{}
	h.close = func() { h.once.Do(closeFn) }
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, false
	}
	if s.tunnels == nil {
		s.tunnels = map[*tunnelHandle]struct{}{}
	}
	s.tunnels[h] = struct{}{}
	return func() {
		s.mu.Lock()
		delete(s.tunnels, h)
		s.mu.Unlock()
	}, true
}

func (s *Server) closeParts() {
	s.mu.Lock()
	w, serving := s.watcher, s.stopWatch != nil
	s.mu.Unlock()
	if w != nil && !serving {
		w.Close() // watchConfig closes it when it runs
	}
	s.storage.close()
	if s.table != nil {
		s.table.Close()
	}
	if s.upstreams != nil {
		s.upstreams.Close()
	}
}

// Handler is the whole server's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", s.handleHealthz)
	mux.HandleFunc("/.well-known/pomerium/jwks.json", s.handleJWKS)
	mux.HandleFunc("/.pomerium/api/v1/routes", s.handleRoutesAPI)
	mux.HandleFunc("/.pomerium/routes", s.handleRoutesPage)
	mux.HandleFunc("/.pomerium/user", s.handleUserInfo)
	mux.HandleFunc("/.pomerium/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/.pomerium/routes", http.StatusFound)
	})
	if s.idp != nil {
		mux.Handle("/.pomerium/dev-idp/", s.idp.Handler())
	}
	return s.accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = stripHostDot(r.Host)
		if isConnectUDP(r) {
			s.handleConnectUDP(w, r)
			return
		}
		if isH2WebSocket(r) {
			w, r = asH1WebSocket(w, r)
		}
		if misdirected(r) {
			writeMisdirected(w, r)
			return
		}
		if r.Method == http.MethodConnect {
			s.handleConnect(w, r)
			return
		}
		if s.api != nil && hasPathPrefix(r.URL.Path, "/api/v0") && s.isPortalHost(r) {
			s.api.ServeHTTP(w, r)
			return
		}
		if svc := s.auth(); svc.Owns(r) {
			if r.URL.Path == authn.PathOAuth2Callback {
				s.countSignIns(svc.Handler().ServeHTTP)(w, r)
				return
			}
			svc.Handler().ServeHTTP(w, r)
			return
		}
		if isOwnPath(r.URL.Path) {
			mux.ServeHTTP(w, r)
			return
		}
		if rt := s.table.Load().MatchHTTP(r); rt != nil {
			s.serveRouteObserved(w, r, rt)
			return
		}
		if r.URL.Path == "/" && s.isPortalHost(r) {
			http.Redirect(w, r, "/.pomerium/routes", http.StatusFound)
			return
		}
		http.Error(w, "no route for "+r.Host+r.URL.Path, http.StatusNotFound)
	}))
}

// accessLog logs each request at debug level: never the query, which
// may carry pomerium_session or a code.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		adaptprocs.Kick() // a transfer may start: every P soon if busy
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		s.log.Debug("request", "method", r.Method, "host", r.Host, "path", r.URL.Path, "proto", r.Proto,
			"status", rec.status, "duration", time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func isOwnPath(p string) bool {
	return p == "/healthz" || hasPathPrefix(p, "/.pomerium") || hasPathPrefix(p, "/.well-known/pomerium")
}

func hasPathPrefix(p, prefix string) bool {
	return p == prefix || len(p) > len(prefix) && p[:len(prefix)] == prefix && p[len(prefix)] == '/'
}

// servesHost reports whether hostport names this server: an http
// route's host, the portal (its address, localhost, an IP) or the
// authenticate host. Only these receive sign-in handoffs.
func (s *Server) servesHost(hostport string) bool {
	r := &http.Request{Host: hostport, URL: &url.URL{Path: "/"}}
	if s.isPortalHost(r) {
		return true
	}
	if a := s.signInOpts().AuthenticateURL; a != nil && strings.EqualFold(a.Host, hostport) {
		return true
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	routes := s.table.Load().Routes()
	for i := range routes {
		rt := &routes[i]
		if rt.Type != "http" || rt.FromURL == nil || !strings.EqualFold(rt.FromURL.Hostname(), host) {
			continue
		}
		if p := rt.FromURL.Port(); p == "" || p == port {
			return true
		}
	}
	return false
}

// isPortalHost reports whether r is addressed to the server itself
// rather than to an http route's host.
func (s *Server) isPortalHost(r *http.Request) bool {
	host := hostOnly(r.Host)
	return host == "localhost" || net.ParseIP(host) != nil || r.Host == s.address
}

func logErr(log *slog.Logger, msg string, err error, args ...any) {
	log.Warn(msg, append(args, "err", err)...)
}
