package connections

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// ListOptions are the parsed arguments of `connections list`.
type ListOptions struct {
	IO    *cmdutil.IOStreams
	Store *saved.Store

	Tag    string
	Output string
}

// NewCmdList builds `connections list`. runF replaces listRun in tests.
func NewCmdList(f *cmdutil.Factory, sf *storeFlag, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List saved connections",
		Example: `  pomerium-cli connections list --tag prod
  pomerium-cli connections list --output json | jq -r '.[].name'`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output != "table" && opts.Output != "json" && opts.Output != "yaml" {
				return cmdutil.Usagef("--output %q: want table, json or yaml", opts.Output)
			}
			opts.Store = sf.open(f)
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Tag, "tag", "", "only connections with this `tag`")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func listRun(opts *ListOptions) error {
	list, err := opts.Store.List()
	if err != nil {
		return err
	}
	if opts.Tag != "" {
		list = saved.WithTag(list, opts.Tag)
	}
	switch opts.Output {
	case "json":
		return writeJSON(opts.IO.Out, hideKeys(list))
	case "yaml":
		return cmdutil.WriteYAMLByJSON(opts.IO.Out, hideKeys(list), "connections")
	}
	if len(list) == 0 {
		if opts.Tag != "" {
			fmt.Fprintf(opts.IO.ErrOut, "No saved connections tagged %q.\n", opts.Tag)
		} else {
			fmt.Fprintln(opts.IO.ErrOut, "No saved connections: add one with `pomerium-cli connections add` or import with `pomerium-cli connections import`.")
		}
		return nil
	}
	return writeTable(opts.IO.Out, list)
}

func writeTable(w io.Writer, list []saved.Connection) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESTINATION\tLISTEN\tTAGS\tID")
	for _, c := range list {
		listen := c.ListenAddr
		if listen == "" {
			listen = "auto"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", termtext.Escape(c.Name), termtext.Escape(c.Destination), termtext.Escape(listen), termtext.Escape(strings.Join(c.Tags, ",")), termtext.Escape(c.ID))
	}
	return tw.Flush()
}

// hideKeys blanks inline private keys: listing is not exporting.
func hideKeys(list []saved.Connection) []saved.Connection {
	out := make([]saved.Connection, len(list))
	for i, c := range list {
		if c.TLS.ClientKey != "" {
			c.TLS.ClientKey = "(hidden)"
		}
		if c.Tags == nil {
			c.Tags = []string{}
		}
		out[i] = c
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
