package connections

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// AddOptions are the parsed arguments of `connections add` and `edit`.
type AddOptions struct {
	IO      *cmdutil.IOStreams
	Store   *saved.Store
	Factory *cmdutil.Factory
	Ctx     context.Context

	// Route names a portal route of the remembered server (add only):
	// its from URL becomes the destination.
	Route string

	Ref   string // edit: id or name of the connection to change
	flags connFlags
	set   *pflag.FlagSet
}

// NewCmdAdd builds `connections add`. runF replaces addRun in tests.
func NewCmdAdd(f *cmdutil.Factory, sf *storeFlag, runF func(*AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "add --name NAME --destination DEST [flags]",
		Short: "Save a new connection",
		Long: `Save a connection to a destination, or to a route of the remembered server
by its name (--route: looked up in the server's routes list, cached for a
few minutes; the connection takes the route's name unless --name is given,
and the server's remembered TLS settings unless TLS flags are given).`,
		Example: `  pomerium-cli connections add --name db --destination tcp+https://proxy.example.com/db.internal:5432 --listen 127.0.0.1:5432 --tag prod
  pomerium-cli connections add --route postgres --listen 127.0.0.1:5432
  pomerium-cli connections add --name redis --destination redis.example.com:6379 --pomerium-url https://proxy.example.com:8443`,
		Args: cmdutil.ExactArgs(0, "no arguments (use --name and --destination, or --route)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("route") && cmd.Flags().Changed("destination") {
				return cmdutil.Usagef("--route and --destination both name the destination: give one")
			}
			if cmd.Flags().Changed("route") && opts.Route == "" {
				return cmdutil.Usagef("--route: give a route name (see pomerium-cli routes list)")
			}
			opts.Store, opts.set, opts.Ctx = sf.open(f), cmd.Flags(), cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return addRun(opts)
		},
	}
	opts.flags.register(cmd.Flags(), false)
	cmd.Flags().StringVar(&opts.Route, "route", "", "`name` of a tcp or udp route of the remembered server, instead of --destination")
	return cmd
}

func addRun(opts *AddOptions) error {
	var c saved.Connection
	if err := opts.flags.apply(opts.set, &c); err != nil {
		return err
	}
	if opts.Route != "" {
		if err := applyRoute(opts, &c); err != nil {
			return err
		}
	}
	c, err := opts.Store.Put(c)
	if err != nil {
		return flagError(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Added %s (%s)\n", termtext.Escape(c.Name), termtext.Escape(c.ID))
	fmt.Fprintln(opts.IO.Out, c.ID)
	return nil
}

// NewCmdEdit builds `connections edit ID|NAME`. runF replaces editRun in tests.
func NewCmdEdit(f *cmdutil.Factory, sf *storeFlag, runF func(*AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "edit ID|NAME [flags]",
		Short: "Change a saved connection (only the flags given change)",
		Example: `  pomerium-cli connections edit db --listen 127.0.0.1:15432 --add-tag staging
  pomerium-cli connections edit 3f9a1c2b4d5e6f70 --autostart=false --listen ''`,
		Args: cmdutil.ExactArgs(1, "the id or name of a connection"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref, opts.Store, opts.set = args[0], sf.open(f), cmd.Flags()
			if opts.set.NFlag() == 0 {
				return cmdutil.Usagef("nothing to change: give the flags to set, e.g. --listen 127.0.0.1:5432")
			}
			if runF != nil {
				return runF(opts)
			}
			return editRun(opts)
		},
	}
	opts.flags.register(cmd.Flags(), true)
	return cmd
}

func editRun(opts *AddOptions) error {
	list, err := opts.Store.List()
	if err != nil {
		return err
	}
	c, err := saved.Find(list, opts.Ref)
	if err != nil {
		return err
	}
	if err := opts.flags.apply(opts.set, &c); err != nil {
		return err
	}
	c, err = opts.Store.Put(c)
	if err != nil {
		return flagError(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Saved %s (%s)\n", termtext.Escape(c.Name), termtext.Escape(c.ID))
	return nil
}

// applyRoute points c at the route named opts.Route on the remembered
// server: its from URL and protocol, its name unless --name was given,
// the server as the proxy of a host-form route, and the server's
// remembered TLS settings unless the connection was given its own.
func applyRoute(opts *AddOptions, c *saved.Connection) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	f := opts.Factory
	r, server, err := f.ResolveRoute(ctx, opts.Route, "")
	if err != nil {
		return err
	}
	c.Destination = r.From
	if r.Type == "udp" {
		c.Protocol = "udp"
	}
	if !opts.set.Changed("name") {
		c.Name = r.Name
	}
	if !opts.set.Changed("pomerium-url") && saved.HostForm(r.From) {
		c.PomeriumURL = server.String()
	}
	if !tlsFlagsChanged(opts.set) {
		p, ok, err := f.Profile(server)
		if err != nil {
			return err
		}
		if ok {
			c.TLS = p.TLS()
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "Route %s: %s\n", termtext.Escape(r.Name), termtext.Escape(r.From))
	return nil
}

// tlsFlagsChanged reports whether any of the connection's TLS flags was
// given.
func tlsFlagsChanged(fs *pflag.FlagSet) bool {
	for _, n := range []string{"disable-tls-verification", "alternate-ca-path", "ca-cert", "client-cert", "client-key"} {
		if fs.Changed(n) {
			return true
		}
	}
	return false
}
