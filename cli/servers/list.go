package servers

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
)

var outputFormats = []string{"table", "json", "yaml"}

// ListOptions are the parsed arguments of `servers list`.
type ListOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Output  string
}

// NewCmdList builds `servers list`. runF replaces listRun in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the remembered servers, most recently used first (* = the default)",
		Args:    cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.Output {
			case "table", "json", "yaml":
			default:
				return cmdutil.Usagef("--output %q: want one of %s", opts.Output, strings.Join(outputFormats, ", "))
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output format: "+strings.Join(outputFormats, ", "))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func listRun(opts *ListOptions) error {
	ps, err := opts.Factory.Profiles()
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []cmdutil.ServerProfile{}
	}
	switch opts.Output {
	case "json":
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(ps)
	case "yaml":
		b, err := yaml.Marshal(ps)
		if err != nil {
			return fmt.Errorf("encoding servers: %w", err)
		}
		_, err = opts.IO.Out.Write(b)
		return err
	}
	if len(ps) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No remembered servers: `pomerium-cli login https://proxy.example.com` or `routes list URL` remembers one.")
		return nil
	}
	last, err := opts.Factory.LastServer()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tSERVER\tTLS\tPOMERIUM URL\tLAST USED")
	for _, p := range ps {
		mark := ""
		if p.URL == last {
			mark = "*"
		}
		pu := p.PomeriumURL
		if pu == "" {
			pu = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, termtext.Escape(p.URL), termtext.Escape(tlsSummary(p)), termtext.Escape(pu), p.LastUsed.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// tlsSummary names the remembered TLS flags, "-" for system roots only.
func tlsSummary(p cmdutil.ServerProfile) string {
	var parts []string
	if p.CAFile != "" {
		parts = append(parts, "--alternate-ca-path "+p.CAFile)
	}
	if p.CACert != "" {
		parts = append(parts, "--ca-cert (inline)")
	}
	if p.ClientCertFile != "" {
		parts = append(parts, "--client-cert "+p.ClientCertFile)
	}
	if p.ClientKeyFile != "" {
		parts = append(parts, "--client-key "+p.ClientKeyFile)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
