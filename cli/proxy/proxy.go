// Package proxy is `pomerium-cli proxy`: a local HTTP proxy that carries
// CONNECTs for names under --proxy-domain through the tunnel, so any
// proxy-aware tool reaches many tcp routes through one local port.
package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/cli/tcp"
	"github.com/porthole-dev/porthole/internal/asyncw"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/tunnel"
)

// DefaultListen is the real pomerium-cli's proxy address.
const DefaultListen = "127.0.0.1:3128"

// maxTunnels bounds the destinations one proxy keeps a tunnel for.
const maxTunnels = 256

// ProxyOptions are the parsed arguments of `proxy`.
type ProxyOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Ctx     context.Context

	Listen      string
	PomeriumURL string
	Domains     []string
	HTTP1       bool
}

// NewCmdProxy builds `proxy`. runF replaces proxyRun in tests.
func NewCmdProxy(f *cmdutil.Factory, runF func(*ProxyOptions) error) *cobra.Command {
	opts := &ProxyOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "proxy --proxy-domain DOMAIN",
		Short: "Run a local HTTP proxy that tunnels names under a domain through the proxy",
		Long: `Run a local HTTP proxy: a CONNECT to host:port where host is a
--proxy-domain or a name under it is carried through the proxy as a tcp
tunnel (to --pomerium-url, else to host on 443); anything else is refused
with 403, so this is never an open proxy. Point proxy-aware tools at it
(HTTPS_PROXY=http://127.0.0.1:3128, curl -x, ssh ProxyCommand via nc -X
connect). It runs until interrupted (Ctrl-C).`,
		Example: `  pomerium-cli proxy --pomerium-url https://proxy.example.com --proxy-domain internal
  curl -x http://127.0.0.1:3128 https://app.internal/`,
		Args: cmdutil.MaximumArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.Domains) == 0 {
				return cmdutil.Usagef("--proxy-domain is required: the domain whose names go through the proxy, e.g. --proxy-domain internal")
			}
			for i, d := range opts.Domains {
				d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "."))
				if d == "" || strings.ContainsAny(d, "/:* ") {
					return cmdutil.Usagef("--proxy-domain %q: want a domain name such as example.com", opts.Domains[i])
				}
				opts.Domains[i] = d
			}
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return proxyRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", DefaultListen, "local `address` of the HTTP proxy")
	fl.StringVar(&opts.PomeriumURL, "pomerium-url", "", "`URL` of the proxy to dial (default: each name on 443)")
	fl.StringArrayVar(&opts.Domains, "proxy-domain", nil, "`domain` whose names (and itself) are tunneled; repeat for more")
	fl.BoolVar(&opts.HTTP1, "http1", false, "use HTTP/1.1 even when the proxy offers HTTP/2")
	return cmd
}

// underDomain reports whether host is one of domains or a name under one.
func underDomain(host string, domains []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

type server struct {
	opts   *ProxyOptions
	ctx    context.Context
	events *asyncw.Writer // the tunnels' event lines, off their connections' path

	mu      sync.Mutex
	tunnels map[string]*tunnel.Tunnel // by authority
}

func proxyRun(opts *ProxyOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.PomeriumURL != "" {
		// Check it once, up front, rather than on every CONNECT.
		if _, err := tunnel.ParseDestination("check.invalid:1", opts.PomeriumURL); err != nil {
			return err
		}
		opts.Factory.Target = opts.PomeriumURL
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", opts.Listen, err)
	}
	defer opts.Factory.ServeProcs(ctx)()
	s := &server{opts: opts, ctx: ctx, tunnels: map[string]*tunnel.Tunnel{}, events: asyncw.New(opts.IO.ErrOut)}
	defer s.events.Close()
	defer s.closeTunnels()
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	fmt.Fprintf(opts.IO.ErrOut, "Listening on %s (HTTP proxy for %s)\n", ln.Addr(), strings.Join(opts.Domains, ", "))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
		hs.Close()
		s.closeTunnels()
		<-errc
		return ctx.Err()
	case err := <-errc:
		return fmt.Errorf("HTTP proxy on %s stopped: %w", ln.Addr(), err)
	}
}

func (s *server) closeTunnels() {
	s.mu.Lock()
	ts := s.tunnels
	s.tunnels = map[string]*tunnel.Tunnel{}
	s.mu.Unlock()
	for _, t := range ts {
		t.Close()
	}
}

// tunnelFor returns the tunnel for authority, one per destination so
// that its connections share the proxy connection.
func (s *server) tunnelFor(authority string) (*tunnel.Tunnel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tunnels[authority]; t != nil {
		return t, nil
	}
	if len(s.tunnels) >= maxTunnels {
		return nil, fmt.Errorf("more than %d destinations in use", maxTunnels)
	}
	dst, err := tunnel.ParseDestination(authority, s.opts.PomeriumURL)
	if err != nil {
		return nil, err
	}
	cfg, err := s.opts.Factory.TunnelConfig(dst)
	if err != nil {
		return nil, err
	}
	cfg.DisableHTTP2 = s.opts.HTTP1
	cfg.OnEvent = tcp.EventPrinter(s.events, s.opts.Factory.Opts.Verbose, dst)
	t, err := tunnel.New(cfg)
	if err != nil {
		return nil, err
	}
	s.tunnels[authority] = t
	return t, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "only CONNECT is supported: use this as an HTTPS proxy", http.StatusMethodNotAllowed)
		return
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		http.Error(w, "CONNECT target must be host:port", http.StatusBadRequest)
		return
	}
	if !underDomain(host, s.opts.Domains) {
		fmt.Fprintf(s.opts.IO.ErrOut, "refused CONNECT to %s: not under %s\n", termtext.Escape(r.Host), strings.Join(s.opts.Domains, ", "))
		http.Error(w, "not a proxied domain", http.StatusForbidden)
		return
	}
	t, err := s.tunnelFor(r.Host)
	if err != nil {
		fmt.Fprintf(s.opts.IO.ErrOut, "refused CONNECT to %s: %s\n", termtext.Escape(r.Host), termtext.Escape(err.Error()))
		http.Error(w, "bad destination", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	_ = conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		return
	}
	_ = t.ServeConn(s.ctx, &bufferedConn{Conn: conn, r: brw.Reader})
}

// bufferedConn reads what the HTTP server buffered past the CONNECT
// header first (a client may send its TLS hello without waiting).
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("cannot half-close")
}
