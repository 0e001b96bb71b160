package connections

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// ImportOptions are the parsed arguments of `connections import`.
type ImportOptions struct {
	IO      *cmdutil.IOStreams
	Factory *cmdutil.Factory
	Store   *saved.Store
	Ctx     context.Context

	File   string // "-" is stdin
	Portal string
	Tags   []string
	Yes    bool
	Remove bool
	DryRun bool
}

// NewCmdImport builds `connections import FILE|--portal URL`. runF replaces importRun in tests.
func NewCmdImport(f *cmdutil.Factory, sf *storeFlag, runF func(*ImportOptions) error) *cobra.Command {
	opts := &ImportOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "import FILE|--portal URL",
		Short: "Import connections from an export file or a routes portal",
		Long: `With FILE (- for stdin), import an export of pomerium-cli/pomerium-desktop
or of Pomerium Desktop. Connections already saved (same id, or same name and
destination) are updated, not duplicated.

With --portal, sign in to the proxy, fetch its tcp and udp routes and save them
with --tag. Importing again from the same portal updates those connections
(keeping their listen address and start-at-launch), adds new routes and
lists connections whose route is gone; they are removed only with --remove.
The plan is printed first, then it asks before saving: --yes skips the
question, and is needed when stdin is not a terminal. An import from FILE
asks only when it would listen beyond loopback, start on its own or use
key files outside your home directory.
The global TLS flags are used to reach the portal and saved with the
connections.`,
		Example: `  pomerium-cli connections import --portal https://proxy.example.com --tag work
  pomerium-cli connections import --portal https://proxy.example.com --tag work --remove --yes
  pomerium-cli connections import pomerium-desktop-export.json`,
		Args: cmdutil.MaximumArgs(1, "one file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			switch {
			case opts.File == "" && opts.Portal == "":
				return cmdutil.Usagef("missing FILE or --portal URL")
			case opts.File != "" && opts.Portal != "":
				return cmdutil.Usagef("give FILE or --portal, not both")
			case opts.File != "" && opts.Remove:
				return cmdutil.Usagef("--remove goes with --portal")
			}
			opts.Store, opts.Ctx = sf.open(f), cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			if opts.Portal != "" {
				return importPortalRun(opts)
			}
			return importFileRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Portal, "portal", "", "`URL` of the proxy whose routes portal to import")
	fl.StringSliceVar(&opts.Tags, "tag", nil, "`tag` to add to every imported connection (repeatable)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "save without asking")
	fl.BoolVar(&opts.Remove, "remove", false, "also delete connections whose route the portal no longer lists")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print what would change and save nothing")
	return cmd
}

func importFileRun(opts *ImportOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	var data []byte
	var err error
	if opts.File == "-" {
		data, err = bounded.ReadAll(ctx, opts.IO.In, saved.MaxFileBytes)
	} else {
		data, err = bounded.ReadFile(opts.File, saved.MaxFileBytes)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", opts.File, err)
	}
	list, format, err := saved.Decode(data)
	if err != nil {
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	for i := range list {
		list[i].Tags = append(list[i].Tags, opts.Tags...)
	}
	home, _ := os.UserHomeDir()
	risks, err := opts.Store.ImportRisks(list, home)
	if err != nil {
		return err
	}
	if printRisks(opts.IO.ErrOut, risks) && !opts.DryRun {
		ok, err := cmdutil.Confirm(ctx, opts.IO, "Import these connections? [y/N] ", opts.Yes)
		if err != nil || !ok {
			if err == nil {
				fmt.Fprintln(opts.IO.ErrOut, "Nothing saved.")
			}
			return err
		}
	}
	importFn, verb := opts.Store.Import, "Imported"
	if opts.DryRun {
		importFn, verb = opts.Store.ImportPlan, "Would import (dry run, nothing saved)"
	}
	res, err := importFn(list)
	if err != nil {
		return fmt.Errorf("importing %s: %w", opts.File, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(opts.IO.ErrOut, "warning:", termtext.Escape(fmt.Sprint(w)))
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s %s (%s format): %d added, %d updated, %d unchanged\n",
		verb, termtext.Escape(opts.File), format, res.Added, res.Updated, res.Unchanged)
	return nil
}

func importPortalRun(opts *ImportOptions) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	u, err := cmdutil.ParseServerURL(opts.Portal)
	if err != nil {
		return fmt.Errorf("--portal: %w", err)
	}
	existing, err := opts.Store.List() // a corrupt store fails before a sign-in
	if err != nil {
		return err
	}
	opts.Factory.Target = u.String()
	pc, err := opts.Factory.PortalClient()
	if err != nil {
		return err
	}
	routes, err := pc.Routes(ctx, u, nil)
	if err != nil {
		return fmt.Errorf("fetching routes from %s: %w", u, err)
	}
	tlsOpts, err := opts.Factory.TLSOptions().Abs()
	if err != nil {
		return err
	}
	plan, err := saved.PlanImport(existing, saved.PortalImport{
		PortalURL: u.String(), Routes: routes, Tags: opts.Tags, TLS: tlsOpts,
	})
	if err != nil {
		return err
	}
	printPlan(opts.IO.ErrOut, plan, opts.Remove)
	home, _ := os.UserHomeDir()
	var risks []saved.NamedRisk
	for _, c := range plan.Add {
		for _, r := range saved.RisksAdded(nil, c, home) {
			risks = append(risks, saved.NamedRisk{Name: c.Name, Risk: r})
		}
	}
	for _, ch := range plan.Update {
		for _, r := range saved.RisksAdded(&ch.Old, ch.New, home) {
			risks = append(risks, saved.NamedRisk{Name: ch.New.Name, Risk: r})
		}
	}
	printRisks(opts.IO.ErrOut, risks)
	if opts.DryRun || (plan.Empty() && (len(plan.Remove) == 0 || !opts.Remove)) {
		return nil
	}
	ok, err := cmdutil.Confirm(ctx, opts.IO, "Save these changes? [y/N] ", opts.Yes)
	if err != nil || !ok {
		if err == nil {
			fmt.Fprintln(opts.IO.ErrOut, "Nothing saved.")
		}
		return err
	}
	if err := saved.ApplyImport(opts.Store, plan, opts.Remove); err != nil {
		return err
	}
	removed := 0
	if opts.Remove {
		removed = len(plan.Remove)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Saved: %d added, %d updated, %d removed\n", len(plan.Add), len(plan.Update), removed)
	return nil
}

// printPlan writes the preview: one aligned line per connection the
// import touches.
func printPlan(w io.Writer, p saved.Plan, remove bool) {
	n := len(p.Add) + len(p.Update) + len(p.Unchanged)
	fmt.Fprintf(w, "Import from %s: %d tcp/udp routes\n", termtext.Escape(p.PortalURL), n)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range p.Add {
		fmt.Fprintf(tw, "  add\t%s\t%s%s\n", termtext.Escape(c.Name), termtext.Escape(c.Destination), termtext.Escape(tagSuffix(c.Tags)))
	}
	for _, ch := range p.Update {
		fmt.Fprintf(tw, "  update\t%s\t%s\n", termtext.Escape(ch.New.Name), termtext.Escape(describeChange(ch)))
	}
	for _, c := range p.Unchanged {
		fmt.Fprintf(tw, "  unchanged\t%s\t\n", termtext.Escape(c.Name))
	}
	for _, sk := range p.Skipped {
		fmt.Fprintf(tw, "  skip\t%s\t%s: %s\n", termtext.Escape(sk.Route.Name), termtext.Escape(sk.Route.From), termtext.Escape(fmt.Sprint(sk.Err)))
	}
	for _, c := range p.Remove {
		if remove {
			fmt.Fprintf(tw, "  remove\t%s\t%s (the portal no longer lists it)\n", termtext.Escape(c.Name), termtext.Escape(c.Destination))
		} else {
			fmt.Fprintf(tw, "  would remove\t%s\t%s (the portal no longer lists it; pass --remove)\n", termtext.Escape(c.Name), termtext.Escape(c.Destination))
		}
	}
	_ = tw.Flush()
}

func describeChange(ch saved.Change) string {
	var parts []string
	if ch.Old.Name != ch.New.Name {
		parts = append(parts, fmt.Sprintf("name %q -> %q", ch.Old.Name, ch.New.Name))
	}
	if ch.Old.Destination != ch.New.Destination {
		parts = append(parts, fmt.Sprintf("destination %s -> %s", ch.Old.Destination, ch.New.Destination))
	}
	if strings.Join(ch.Old.Tags, ",") != strings.Join(ch.New.Tags, ",") {
		parts = append(parts, fmt.Sprintf("tags [%s] -> [%s]", strings.Join(ch.Old.Tags, ","), strings.Join(ch.New.Tags, ",")))
	}
	if ch.Old.TLS != ch.New.TLS {
		parts = append(parts, "TLS options")
	}
	if len(parts) == 0 {
		return "(tidied)"
	}
	return strings.Join(parts, "; ")
}

func tagSuffix(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	return "  [" + strings.Join(tags, ",") + "]"
}

// printRisks calls out what an import would newly set that deserves a
// second look (saved.Risks) and reports whether there was any.
func printRisks(w io.Writer, risks []saved.NamedRisk) bool {
	if len(risks) == 0 {
		return false
	}
	fmt.Fprintln(w, "Look before saving:")
	for _, r := range risks {
		fmt.Fprintf(w, "  %s %s\n", termtext.Escape(r.Name), termtext.Escape(r.Risk))
	}
	return true
}
