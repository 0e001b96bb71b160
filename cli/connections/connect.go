package connections

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/asyncw"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/tunnel"
)

// ConnectOptions are the parsed arguments of `connections connect`.
type ConnectOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Store   *saved.Store
	Ctx     context.Context

	Ref    string
	Listen string // overrides the saved listen address when set
	// Ready, when set, receives the listen address once listening (tests).
	Ready func(addr string)
}

// NewCmdConnect builds `connections connect ID|NAME`. runF replaces connectRun in tests.
func NewCmdConnect(f *cmdutil.Factory, sf *storeFlag, runF func(*ConnectOptions) error) *cobra.Command {
	opts := &ConnectOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "connect ID|NAME",
		Short: "Open a saved connection's tunnel until interrupted (Ctrl-C)",
		Long: `Listen on the connection's address (a free loopback port when it has none)
and carry every connection through the proxy, signing in when needed, like
` + "`pomerium-cli tcp`" + `. The connection's own TLS options apply (with none, the remembered
server's); TLS flags given here replace them for this run.`,
		Example: `  pomerium-cli connections connect db
  pomerium-cli connections connect db --listen 127.0.0.1:0`,
		Args: cmdutil.ExactArgs(1, "the id or name of a connection"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref, opts.Store, opts.Ctx = args[0], sf.open(f), cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return connectRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "local `address` for this run instead of the saved one")
	return cmd
}

func connectRun(opts *ConnectOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	list, err := opts.Store.List()
	if err != nil {
		return err
	}
	c, err := saved.Find(list, opts.Ref)
	if err != nil {
		return err
	}
	dst, err := c.ParseDestination()
	if err != nil {
		return fmt.Errorf("connection %s: destination: %w", c.Name, err)
	}
	if dst.Proxy != nil {
		opts.Factory.Target = dst.Proxy.String()
	}
	// The saved TLS options apply to the sign-in as well as the tunnel;
	// TLS flags given on this command line win.
	// A connection with none of its own falls back on the remembered
	// server's profile, as tcp does.
	tlsOpts := c.TLS
	if flags := opts.Factory.TLSOptions(); flags != (tlsconfig.Options{}) {
		tlsOpts = flags
	} else if tlsOpts == (tlsconfig.Options{}) && dst.Proxy != nil {
		p, ok, err := opts.Factory.Profile(dst.Proxy)
		if err != nil {
			return err
		}
		if ok {
			tlsOpts = p.TLS()
		}
	}
	cfg, err := opts.Factory.TunnelConfigTLS(dst, tlsOpts)
	if err != nil {
		return fmt.Errorf("connection %s: %w", c.Name, err)
	}
	defer opts.Factory.ServeProcs(ctx)()
	errOut := asyncw.New(opts.IO.ErrOut) // connection lines off the connections' path
	defer errOut.Close()
	ev := &eventPrinter{w: errOut, name: c.Name, authority: dst.Authority}
	if dst.Proxy != nil {
		ev.server = dst.Proxy.String()
	}
	cfg.OnEvent = ev.print

	addr := c.ListenAddr
	if opts.Listen != "" {
		addr = opts.Listen
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := saved.Listen(ctx, c, addr, cfg)
	if err != nil {
		return fmt.Errorf("connection %s: listening on %s: %w", c.Name, addr, err)
	}
	defer ln.Stop()
	fmt.Fprintf(errOut, "%s: listening on %s (Ctrl-C stops)\n", termtext.Escape(c.Name), termtext.Escape(ln.Addr().String()))
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String())
	}
	return cmdutil.WaitListener(ctx, ln, func(err error) error {
		return fmt.Errorf("connection %s: listener stopped: %w", c.Name, err)
	})
}

// eventPrinter writes one stderr line per connect, close and error.
type eventPrinter struct {
	mu        sync.Mutex // events come from many connections
	w         io.Writer
	name      string
	authority string
	server    string // the proxy, named in hints
}

func (p *eventPrinter) print(e tunnel.Event) {
	var line string
	switch e.Kind {
	case tunnel.EventConnected:
		line = fmt.Sprintf("[#%d] connected to %s", e.ConnID, p.authority)
	case tunnel.EventClosed:
		line = fmt.Sprintf("[#%d] closed: sent %s, received %s", e.ConnID, cmdutil.Bytes(e.BytesSent), cmdutil.Bytes(e.BytesReceived))
	case tunnel.EventError:
		line = fmt.Sprintf("[#%d] error: %s", e.ConnID, cmdutil.ExplainLine(e.Err, p.server))
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s: %s\n", termtext.Escape(p.name), termtext.Escape(line))
}
