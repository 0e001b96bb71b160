package connections

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// AddOptions are the parsed arguments of `connections add` and `edit`.
type AddOptions struct {
	IO    *cmdutil.IOStreams
	Store *saved.Store

	Ref   string // edit: id or name of the connection to change
	flags connFlags
	set   *pflag.FlagSet
}

// NewCmdAdd builds `connections add`. runF replaces addRun in tests.
func NewCmdAdd(f *cmdutil.Factory, sf *storeFlag, runF func(*AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "add --name NAME --destination DEST [flags]",
		Short: "Save a new connection",
		Example: `  pomerium-cli connections add --name db --destination tcp+https://proxy.example.com/db.internal:5432 --listen 127.0.0.1:5432 --tag prod
  pomerium-cli connections add --name redis --destination redis.example.com:6379 --pomerium-url https://proxy.example.com:8443`,
		Args: cmdutil.ExactArgs(0, "no arguments (use --name and --destination)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Store, opts.set = sf.open(f), cmd.Flags()
			if runF != nil {
				return runF(opts)
			}
			return addRun(opts)
		},
	}
	opts.flags.register(cmd.Flags(), false)
	return cmd
}

func addRun(opts *AddOptions) error {
	var c saved.Connection
	if err := opts.flags.apply(opts.set, &c); err != nil {
		return err
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
