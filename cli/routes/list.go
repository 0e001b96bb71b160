package routes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/portalclient"
)

// Output formats of `routes list`. With no --output, a terminal gets the
// table and anything else the block format of the real pomerium-cli, so
// scripts written against it keep working.
var outputFormats = []string{"table", "json", "yaml", "block"}

// ListOptions are the parsed arguments of `routes list`.
type ListOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Ctx     context.Context

	ServerURL string // "" means the remembered one
	Output    string
}

// NewCmdList builds `routes list [server-url]`. runF replaces listRun in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "list [server-url]",
		Short: "List the routes you may use (signs in when needed)",
		Long: `List the routes the proxy lets you use, signing in through the browser
when needed. The server URL is remembered, so later runs may leave it out.

On a terminal the routes are a table; piped, they are printed in blocks
("Route <name>", then id:, type:, from:, description: and connect_command:
lines, and a blank line) as the original pomerium-cli prints them.
--output table|json|yaml|block chooses explicitly.`,
		Example: `  pomerium-cli routes list https://proxy.example.com
  pomerium-cli routes list --output json | jq -r '.[].connect_command'`,
		Aliases: []string{"ls"},
		Args:    cmdutil.MaximumArgs(1, "one server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.ServerURL = args[0]
			}
			if opts.Output == "" {
				opts.Output = "block"
				if opts.IO.OutTTY {
					opts.Output = "table"
				}
			}
			if !validOutput(opts.Output) {
				return cmdutil.Usagef("--output %q: want one of %s", opts.Output, strings.Join(outputFormats, ", "))
			}
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "output format: "+strings.Join(outputFormats, ", ")+" (default: table on a terminal, else block)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func validOutput(s string) bool {
	for _, o := range outputFormats {
		if s == o {
			return true
		}
	}
	return false
}

func listRun(opts *ListOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	u, err := opts.Factory.ResolveServer(opts.ServerURL, "pomerium-cli routes list https://proxy.example.com")
	if err != nil {
		return err
	}
	pc, err := opts.Factory.PortalClient()
	if err != nil {
		return err
	}
	routes, err := pc.Routes(ctx, u, nil)
	if err != nil {
		return fmt.Errorf("listing routes at %s: %w", u, err)
	}
	if err := opts.Factory.SaveLastServer(u.String()); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", termtext.Escape(err.Error()))
	}
	_ = opts.Factory.SaveRoutes(u, routes) // for route names and completion
	return writeRoutes(opts.IO, opts.Output, routes)
}

func writeRoutes(ios *cmdutil.IOStreams, format string, routes []portalclient.Route) error {
	if routes == nil {
		routes = []portalclient.Route{} // "[]", never "null"
	}
	switch format {
	case "json":
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(routes)
	case "yaml":
		return cmdutil.WriteYAMLByJSON(ios.Out, routes, "routes")
	}
	if len(routes) == 0 {
		fmt.Fprintln(ios.ErrOut, "No routes available to you.")
		return nil
	}
	if format == "block" {
		return writeBlocks(ios.Out, routes)
	}
	return writeTable(ios.Out, routes)
}

// writeBlocks prints the real pomerium-cli's format, byte for byte: its
// Println puts a space after "description:" even when it is empty, and
// leaves connect_command out for http routes.
func writeBlocks(w io.Writer, routes []portalclient.Route) error {
	var b strings.Builder
	for _, r := range routes {
		fmt.Fprintln(&b, "Route", clean(r.Name))
		fmt.Fprintln(&b, "id:", clean(r.ID))
		fmt.Fprintln(&b, "type:", clean(r.Type))
		fmt.Fprintln(&b, "from:", clean(r.From))
		fmt.Fprintln(&b, "description:", clean(r.Description))
		if r.ConnectCommand != "" {
			fmt.Fprintln(&b, "connect_command:", clean(r.ConnectCommand))
		}
		fmt.Fprintln(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTable(w io.Writer, routes []portalclient.Route) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tFROM\tCONNECT COMMAND")
	for _, r := range routes {
		cc := r.ConnectCommand
		if cc == "" {
			cc = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", clean(r.Name), clean(r.Type), clean(r.From), clean(cc))
	}
	return tw.Flush()
}

// clean keeps a server-supplied field on one table cell, with tabs, line
// breaks and terminal controls shown escaped (termtext).
func clean(s string) string { return termtext.Escape(s) }
