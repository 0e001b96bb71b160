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
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// errNoTerminal is what `routes pick` says without a terminal.
var errNoTerminal = errors.New("routes pick needs a terminal; use `pomerium-cli routes list` instead")

// NewCmdPick builds `routes pick [server-url]`, the full-screen picker.
func NewCmdPick(f *cmdutil.Factory) *cobra.Command {
	var listen, pomeriumURL string
	cmd := &cobra.Command{
		Use:   "pick [server-url]",
		Short: "Pick a route in a full-screen list and connect to it",
		Long: `Show the routes you may use and your saved connections in a full-screen
list: type to filter (names starting with what you type come first, then
names holding it, then other fields; matches are underlined), Enter opens a
tcp or udp tunnel in place (or an http route in the browser), c copies the
connect command, m shows a long message (a sign-in URL, an error) in full
and copies it, ? shows all keys. Columns fit the terminal; long from values
are shortened in the middle so the destination stays visible.
Host-form routes (tcp+https://db.example.com:5432) dial this server, where
the portal came from, unless --pomerium-url names another proxy.`,
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
			if pomeriumURL != "" {
				if _, err := tunnel.ParseDestination("check.invalid:1", pomeriumURL); err != nil {
					return cmdutil.Usagef("--pomerium-url: %v", err)
				}
			}
			return pickRun(ctx, f, given, listen, pomeriumURL)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "local `address` pre-filled when opening a tunnel (default 127.0.0.1:0)")
	cmd.Flags().StringVar(&pomeriumURL, "pomerium-url", "", "`URL` of the proxy tunnels dial (default: the route's own, or this server for host-form routes)")
	return cmd
}

func pickRun(ctx context.Context, f *cmdutil.Factory, given, listen, pomeriumURL string) error {
	u, err := f.ResolveServer(given, "pomerium-cli routes pick https://proxy.example.com")
	if err != nil {
		return err
	}
	// The picker serves the tunnels it opens: one P while they are light,
	// every P once busy, as the tunnel commands.
	defer f.ServeProcs(ctx)()
	fetcher := &routeFetcher{server: u, f: f}
	m := tui.New(tui.Options{
		Server:    u.String(),
		Routes:    fetcher,
		Saved:     f.ConnectionStore(),
		Tunnels:   &tunnelStarter{f: f, portal: u, pomeriumURL: pomeriumURL},
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
	_ = r.f.SaveRoutes(r.server, rs)
	return rs, nil
}

type tunnelStarter struct {
	f           *cmdutil.Factory
	portal      *url.URL // the server whose routes are listed
	pomeriumURL string   // --pomerium-url: the proxy every route dials
}

func (s *tunnelStarter) Start(ctx context.Context, it tui.Item, addr string, onEvent func(tunnel.Event)) (tui.Tunnel, error) {
	var (
		cfg tunnel.Config
		err error
	)
	switch {
	case it.Saved != nil:
		c := it.Saved
		dst, derr := c.ParseDestination()
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
		// A host-form route (tcp+https://db.example.com:5432) names no
		// proxy: dial the one whose portal listed it (or --pomerium-url),
		// never db.example.com:443.
		pomeriumURL := s.pomeriumURL
		if pomeriumURL == "" && saved.HostForm(it.From) {
			pomeriumURL = s.portal.String()
		}
		parse := tunnel.ParseDestination
		if it.Type == "udp" {
			parse = tunnel.ParseUDPDestination
		}
		dst, derr := parse(it.From, pomeriumURL)
		if derr != nil {
			return nil, fmt.Errorf("route from %s: %w", termtext.Escape(it.From), derr)
		}
		cfg, err = s.f.TunnelConfig(dst)
	}
	if err != nil {
		return nil, err
	}
	cfg.OnEvent = onEvent
	if it.Type == "udp" || it.Saved != nil && it.Saved.UDP() {
		ln, err := tunnel.ListenUDP(ctx, addr, cfg, tunnel.UDPOptions{})
		if err != nil {
			return nil, fmt.Errorf("listening on udp %s: %w", addr, err)
		}
		return ln, nil
	}
	ln, err := tunnel.Listen(ctx, addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}
