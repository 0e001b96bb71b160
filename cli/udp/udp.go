// Package udp is `pomerium-cli udp`: a local UDP socket whose peers each
// get a connect-udp tunnel (RFC 9298) to a udp route through the proxy.
package udp

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/cli/tcp"
	"github.com/porthole-dev/porthole/internal/asyncw"
	"github.com/porthole-dev/porthole/tunnel"
)

// UDPOptions are the parsed arguments of `udp`.
type UDPOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Ctx     context.Context

	Destination string
	Listen      string
	PomeriumURL string
	HTTP1       bool
	IdleTimeout time.Duration
}

// NewCmdUDP builds `udp <destination>`. runF replaces udpRun in tests.
func NewCmdUDP(f *cmdutil.Factory, runF func(*UDPOptions) error) *cobra.Command {
	opts := &UDPOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "udp <destination>",
		Short: "Create a UDP tunnel through the proxy",
		Long: `Listen on a local UDP address and carry the datagrams of every local peer
to the destination through the proxy (connect-udp, RFC 9298), one tunnel
per peer address, signing in through the browser when needed. A peer's
tunnel closes after --idle-timeout without a datagram either way.

Destinations: host:port, udp+https://host:port, udp+https://proxy[:port]/host:port.
It runs until interrupted (Ctrl-C).`,
		Example: `  pomerium-cli udp udp+https://proxy.example.com/dns.internal:53 --listen 127.0.0.1:5353
  pomerium-cli udp dns.example.com:53 --pomerium-url https://proxy.example.com:8443`,
		Args: cmdutil.ExactArgs(1, "destination (host:port or udp+https://proxy/host:port)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Destination = args[0]
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return udpRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", tcp.DefaultListen, "local UDP `address` to listen on")
	fl.StringVar(&opts.PomeriumURL, "pomerium-url", "", "`URL` of the proxy to dial, overriding the destination's")
	fl.BoolVar(&opts.HTTP1, "http1", false, "use HTTP/1.1 even when the proxy offers HTTP/2")
	fl.DurationVar(&opts.IdleTimeout, "idle-timeout", tunnel.DefaultUDPIdleTimeout, "close a peer's tunnel after this long without a datagram")
	return cmd
}

func udpRun(opts *UDPOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.Listen == "-" {
		return cmdutil.Usagef("--listen - (stdin/stdout) is not supported for udp: give a UDP address such as 127.0.0.1:5353")
	}
	if opts.IdleTimeout <= 0 {
		return cmdutil.Usagef("--idle-timeout must be positive, got %s", opts.IdleTimeout)
	}
	dest, pomeriumURL, err := cmdutil.RouteDestination(ctx, opts.Factory, opts.IO, opts.Destination, opts.PomeriumURL, "udp")
	if err != nil {
		return err
	}
	dst, err := tunnel.ParseUDPDestination(dest, pomeriumURL)
	if err != nil {
		return err
	}
	cfg, err := opts.Factory.DestinationTunnelConfig(dst)
	if err != nil {
		return err
	}
	cfg.DisableHTTP2 = opts.HTTP1
	defer opts.Factory.ServeProcs(ctx)()
	errOut := asyncw.New(opts.IO.ErrOut) // event lines off the datagrams' path
	defer errOut.Close()
	cfg.OnEvent = tcp.EventPrinter(errOut, opts.Factory.Opts.Verbose, dst)
	ln, err := tunnel.ListenUDP(ctx, opts.Listen, cfg, tunnel.UDPOptions{IdleTimeout: opts.IdleTimeout})
	if err != nil {
		return fmt.Errorf("listening on udp %s: %w", opts.Listen, err)
	}
	defer ln.Stop()
	fmt.Fprintf(errOut, "Listening on %s\n", ln.Addr())
	return cmdutil.WaitListener(ctx, ln, func(err error) error {
		return fmt.Errorf("udp listener on %s stopped: %w", ln.Addr(), err)
	})
}
