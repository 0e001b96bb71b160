package routes

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/cli/tui"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// errNoTerminal is what `routes pick` says without a terminal.
var errNoTerminal = errors.New("routes pick needs a terminal; use `pomerium-cli routes list` instead")

// NewCmdPick builds `routes pick [server-url]`, the full-screen picker.
func NewCmdPick(f *cmdutil.Factory) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "pick [server-url]",
		Short: "Pick a route in a full-screen list and connect to it",
		Long: `Show the routes you may use and your saved connections in a full-screen
list: type to filter, Enter opens a tcp tunnel in place (or an http route in
the browser), c copies the connect command, ? shows all keys.`,
		Example: `  pomerium-cli routes pick https://proxy.example.com
  pomerium-cli routes pick --listen 127.0.0.1:5432`,
		Args: cmdutil.MaximumArgs(1, "one server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !f.IO.InTTY || !f.IO.OutTTY {
				return errNoTerminal
			}
			given := ""
			if len(args) == 1 {
				given = args[0]
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return pickRun(ctx, f, given, listen)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "local `address` pre-filled when opening a tunnel (default 127.0.0.1:0)")
	return cmd
}

func pickRun(ctx context.Context, f *cmdutil.Factory, given, listen string) error {
	u, err := f.ResolveServer(given, "pomerium-cli routes pick https://proxy.example.com")
	if err != nil {
		return err
	}
	fetcher := &routeFetcher{server: u, f: f}
	m := tui.New(tui.Options{
		Server:    u.String(),
		Routes:    fetcher,
		Saved:     f.ConnectionStore(),
		Tunnels:   &tunnelStarter{f: f},
		Listen:    listen,
		Clipboard: f.IO.TerminalOut(),
	})
	defer m.Close()
	// While the screen is ours, what the sign-in flow and the token cache
	// would print on stderr becomes part of it instead of scribbling over
	// it; they are built after this swap, so they take the notice writer.
	oldErrOut := f.IO.ErrOut
	f.IO.ErrOut = m.NoticeWriter()
	defer func() { f.IO.ErrOut = oldErrOut }()
	pc, err := f.PortalClient()
	if err != nil {
		return err
	}
	auth, err := f.Authenticator()
	if err != nil {
		return err
	}
	fetcher.pc = pc
	m.SetOpener(auth.Flow.OpenURL)
	oldStderr := auth.Flow.Stderr
	auth.Flow.Stderr = m.NoticeWriter()
	defer func() { auth.Flow.Stderr = oldStderr }()

	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx),
		tea.WithInput(f.IO.In), tea.WithOutput(f.IO.TerminalOut()))
	_, runErr := p.Run()
	m.Close()
	for _, c := range m.Copied() {
		fmt.Fprintln(f.IO.Out, termtext.Escape(c))
	}
	if runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled) {
		return fmt.Errorf("routes pick: %w", runErr)
	}
	return nil
}

type routeFetcher struct {
	pc     *portalclient.Client
	server *url.URL
	f      *cmdutil.Factory
}

func (r *routeFetcher) Routes(ctx context.Context, notify func(string)) ([]portalclient.Route, error) {
	rs, err := r.pc.Routes(ctx, r.server, notify)
	if err != nil {
		return nil, err
	}
	_ = r.f.SaveLastServer(r.server.String()) // remembering the server is a convenience
	return rs, nil
}

type tunnelStarter struct{ f *cmdutil.Factory }

func (s *tunnelStarter) Start(ctx context.Context, it tui.Item, addr string, onEvent func(tunnel.Event)) (tui.Tunnel, error) {
	var (
		cfg tunnel.Config
		err error
	)
	switch {
	case it.Saved != nil:
		c := it.Saved
		dst, derr := tunnel.ParseDestination(c.Destination, c.PomeriumURL)
		if derr != nil {
			return nil, fmt.Errorf("destination: %w", derr)
		}
		// A saved connection's own TLS settings apply unless flags were given.
		if s.f.TLSOptions() == (tlsconfig.Options{}) && c.TLS != (tlsconfig.Options{}) {
			cfg, err = s.f.TunnelConfigTLS(dst, c.TLS)
		} else {
			cfg, err = s.f.TunnelConfig(dst)
		}
	default:
		dst, derr := tunnel.ParseDestination(it.From, "")
		if derr != nil {
			return nil, fmt.Errorf("route from %s: %w", it.From, derr)
		}
		cfg, err = s.f.TunnelConfig(dst)
	}
	if err != nil {
		return nil, err
	}
	cfg.OnEvent = onEvent
	ln, err := tunnel.Listen(ctx, addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}
