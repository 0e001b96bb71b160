package connections

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// RemoveOptions are the parsed arguments of `connections rm`.
type RemoveOptions struct {
	IO    *cmdutil.IOStreams
	Store *saved.Store
	Refs  []string
}

// NewCmdRemove builds `connections rm ID|NAME...`. runF replaces removeRun in tests.
func NewCmdRemove(f *cmdutil.Factory, sf *storeFlag, runF func(*RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:     "rm ID|NAME...",
		Aliases: []string{"remove", "delete"},
		Short:   "Delete saved connections",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.Usagef("missing the id or name of a connection")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Refs, opts.Store = args, sf.open(f)
			if runF != nil {
				return runF(opts)
			}
			return removeRun(opts)
		},
	}
	return cmd
}

// removeRun resolves every name first, so a typo deletes nothing, then
// deletes them in one write.
func removeRun(opts *RemoveOptions) error {
	list, err := opts.Store.List()
	if err != nil {
		return err
	}
	gone := map[string]bool{}
	var removed []saved.Connection
	for _, ref := range opts.Refs {
		c, err := saved.Find(list, ref)
		if err != nil {
			return err
		}
		if !gone[c.ID] {
			gone[c.ID] = true
			removed = append(removed, c)
		}
	}
	err = opts.Store.Modify(func(list []saved.Connection) ([]saved.Connection, error) {
		return slices.DeleteFunc(list, func(c saved.Connection) bool { return gone[c.ID] }), nil
	})
	if err != nil {
		return err
	}
	for _, c := range removed {
		fmt.Fprintf(opts.IO.ErrOut, "Removed %s (%s)\n", termtext.Escape(c.Name), termtext.Escape(c.ID))
	}
	return nil
}
