package connections

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// ExportOptions are the parsed arguments of `connections export`.
type ExportOptions struct {
	IO    *cmdutil.IOStreams
	Store *saved.Store

	File           string // "-" is stdout
	Format         string
	IncludeSecrets bool
	Tag            string
}

// NewCmdExport builds `connections export [FILE|-]`. runF replaces exportRun in tests.
func NewCmdExport(f *cmdutil.Factory, sf *storeFlag, runF func(*ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "export [FILE|-]",
		Short: "Write saved connections as JSON (private keys left out unless asked)",
		Long: `Write the saved connections to FILE (0600, written atomically) or stdout.
--format pomerium-desktop writes what Pomerium Desktop imports (CA and
certificate files are inlined). Private keys are left out unless
--include-secrets is given.`,
		Example: `  pomerium-cli connections export backup.json
  pomerium-cli connections export --tag prod --format pomerium-desktop - > prod.json`,
		Args: cmdutil.MaximumArgs(1, "one file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = "-"
			if len(args) == 1 {
				opts.File = args[0]
			}
			if f := saved.Format(opts.Format); f != saved.FormatPorthole && f != saved.FormatPomeriumDesktop {
				return cmdutil.Usagef("--format %q: want %s or %s", opts.Format, saved.FormatPorthole, saved.FormatPomeriumDesktop)
			}
			opts.Store = sf.open(f)
			if runF != nil {
				return runF(opts)
			}
			return exportRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Format, "format", string(saved.FormatPorthole), "file format: porthole or pomerium-desktop")
	fl.BoolVar(&opts.IncludeSecrets, "include-secrets", false, "include private keys")
	fl.StringVar(&opts.Tag, "tag", "", "only connections with this `tag`")
	return cmd
}

func exportRun(opts *ExportOptions) error {
	list, err := opts.Store.List()
	if err != nil {
		return err
	}
	if opts.Tag != "" {
		list = saved.WithTag(list, opts.Tag)
	}
	eo := saved.ExportOptions{Format: saved.Format(opts.Format), IncludeSecrets: opts.IncludeSecrets}
	if opts.File == "-" {
		return saved.Export(opts.IO.Out, list, eo)
	}
	if err := saved.WriteExport(opts.File, list, eo); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Exported %d connections to %s\n", len(list), termtext.Escape(opts.File))
	return nil
}
