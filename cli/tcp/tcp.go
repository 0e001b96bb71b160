// Package tcp is `pomerium-cli tcp`: a local listener (or stdin/stdout)
// whose connections are carried to a route through the proxy.
package tcp

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/asyncw"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/tunnel"
)

// DefaultListen picks a free loopback port, like the real pomerium-cli.
const DefaultListen = "127.0.0.1:0"

// TCPOptions are the parsed arguments of `tcp`.
type TCPOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Ctx     context.Context

	Destination string
	Listen      string // "-" means stdin/stdout
	PomeriumURL string
	HTTP1       bool
	// SignInFirst signs in (or checks the cached token with the proxy)
	// before listening, so the browser does not pop up later when a
	// client connects. Default: on when stdin and stderr are terminals.
	SignInFirst bool
}

// NewCmdTCP builds `tcp <destination>`. runF replaces tcpRun in tests.
func NewCmdTCP(f *cmdutil.Factory, runF func(*TCPOptions) error) *cobra.Command {
	opts := &TCPOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "tcp <destination>",
		Short: "Create a TCP tunnel through the proxy",
		Long: `Listen locally and carry every connection to the destination through the
proxy as an HTTP CONNECT, signing in through the browser when needed.

Destinations: a route name (looked up in the remembered server's routes
list, cached for 5m), host:port, tcp+https://host:port,
tcp+https://proxy[:port]/host:port.
With --listen - it carries stdin/stdout instead, for ssh's ProxyCommand.
It runs until interrupted (Ctrl-C).`,
		Example: `  pomerium-cli tcp echo --listen 127.0.0.1:7000     # a route of the remembered server, by name
  pomerium-cli tcp tcp+https://proxy.example.com/db.internal:5432 --listen 127.0.0.1:5432
  pomerium-cli tcp redis.example.com:6379 --pomerium-url https://proxy.example.com:8443
  ssh -o ProxyCommand='pomerium-cli tcp --listen - %h:%p' ssh.example.com`,
		Args: cmdutil.ExactArgs(1, "destination (host:port or tcp+https://proxy/host:port)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Destination = args[0]
			opts.Ctx = cmd.Context()
			if !cmd.Flags().Changed("sign-in-first") {
				opts.SignInFirst = f.IO.InTTY && f.IO.ErrTTY
			}
			if runF != nil {
				return runF(opts)
			}
			return tcpRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", DefaultListen, "local `address` to listen on, or - for stdin/stdout")
	fl.StringVar(&opts.PomeriumURL, "pomerium-url", "", "`URL` of the proxy to dial, overriding the destination's")
	fl.BoolVar(&opts.HTTP1, "http1", false, "use HTTP/1.1 even when the proxy offers HTTP/2")
	fl.BoolVar(&opts.SignInFirst, "sign-in-first", false, "sign in before listening, not when the first client connects (default: on when a terminal is attached)")
	return cmd
}

func tcpRun(opts *TCPOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	dest, pomeriumURL, err := cmdutil.RouteDestination(ctx, opts.Factory, opts.IO, opts.Destination, opts.PomeriumURL, "tcp")
	if err != nil {
		return err
	}
	dst, err := tunnel.ParseDestination(dest, pomeriumURL)
	if err != nil {
		return err
	}
	cfg, err := opts.Factory.DestinationTunnelConfig(dst)
	if err != nil {
		return err
	}
	cfg.DisableHTTP2 = opts.HTTP1
	// Connection lines go out from their own goroutine, in order: never
	// a system call in a connection's path (asyncw).
	defer opts.Factory.ServeProcs(ctx)()
	errOut := asyncw.New(opts.IO.ErrOut)
	defer errOut.Close()
	ev := &eventPrinter{w: errOut, verbose: opts.Factory.Opts.Verbose, dest: dst, quietErrors: opts.Listen == "-"}
	cfg.OnEvent = ev.print

	if opts.Listen == "-" {
		return serveStdio(ctx, opts.IO, cfg)
	}
	if opts.SignInFirst {
		if err := signInFirst(ctx, opts.IO, cfg); err != nil {
			return err
		}
	}
	ln, err := tunnel.Listen(ctx, opts.Listen, cfg)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", opts.Listen, err)
	}
	defer ln.Stop()
	fmt.Fprintf(errOut, "Listening on %s: connections go to %s through %s\n", termtext.Escape(ln.Addr().String()),
		termtext.Escape(dst.Authority), termtext.Escape(dst.Proxy.String()))
	return cmdutil.WaitListener(ctx, ln, func(err error) error {
		return fmt.Errorf("listener on %s stopped: %w", ln.Addr(), err)
	})
}

// validator is the part of authflow.Authenticator that checks a cached
// token with the proxy and signs in when it is missing or refused.
type validator interface {
	ValidToken(ctx context.Context, proxy *url.URL, notify func(string)) (string, error)
}

// signInFirst gets a token the proxy accepts before any client connects.
func signInFirst(ctx context.Context, ios *cmdutil.IOStreams, cfg tunnel.Config) error {
	v, ok := cfg.Auth.(validator)
	if !ok {
		return nil
	}
	if _, err := v.ValidToken(ctx, cfg.Destination.Proxy, nil); err != nil {
		return fmt.Errorf("signing in to %s before listening (--sign-in-first=false signs in when a client connects): %w", cfg.Destination.Proxy.Host, err)
	}
	return nil
}

// serveStdio carries one connection made of stdin and stdout.
func serveStdio(ctx context.Context, ios *cmdutil.IOStreams, cfg tunnel.Config) error {
	t, err := tunnel.New(cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	c := tunnel.StdioConn(ios.In, ios.Out)
	defer c.Close()
	if err := t.ServeConn(ctx, c); err != nil {
		return fmt.Errorf("tunnel to %s: %w", cfg.Destination.Authority, err)
	}
	return nil
}
