package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagGroups put the shared flags under their own headings in --help:
// in full on `pomerium-cli --help`, and as one line of names per group on
// every other command, instead of the same dozen flags repeated.
var flagGroups = []struct {
	title string
	names []string
}{
	{"TLS flags", []string{"alternate-ca-path", "ca-cert", "client-cert", "client-key", "disable-tls-verification"}},
	{"Sign-in flags", []string{"browser-cmd", "no-browser", "device", "login-timeout", "service-account", "service-account-file"}},
}

// groupOf is the heading of a shared flag, "" for the others.
func groupOf(name string) string {
	for _, g := range flagGroups {
		for _, n := range g.names {
			if n == name {
				return g.title
			}
		}
	}
	return ""
}

// setGroupedUsage replaces cobra's usage text (the part of --help after
// Long) with one that groups the shared flags.
func setGroupedUsage(root *cobra.Command) {
	root.SetUsageFunc(func(c *cobra.Command) error {
		return writeUsage(c.OutOrStderr(), c)
	})
}

func writeUsage(w io.Writer, c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if c.Runnable() {
		fmt.Fprintf(&b, "  %s\n", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s [command]\n", c.CommandPath())
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(&b, "\nAliases:\n  %s\n", strings.Join(append([]string{c.Name()}, c.Aliases...), ", "))
	}
	if c.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", c.Example)
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\nAvailable Commands:\n")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "  %-*s %s\n", c.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	// The root's own persistent flags are its shared ones; elsewhere they
	// arrive inherited.
	all := c.InheritedFlags()
	local := c.LocalNonPersistentFlags()
	if c == c.Root() {
		all = c.PersistentFlags()
	}
	groups := map[string]*pflag.FlagSet{}
	other := pflag.NewFlagSet("other", pflag.ContinueOnError)
	all.VisitAll(func(fl *pflag.Flag) {
		g := groupOf(fl.Name)
		if g == "" {
			other.AddFlag(fl)
			return
		}
		if groups[g] == nil {
			groups[g] = pflag.NewFlagSet(g, pflag.ContinueOnError)
		}
		groups[g].AddFlag(fl)
	})
	if local.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", local.FlagUsages())
	}
	for _, g := range flagGroups {
		fs := groups[g.title]
		if fs == nil || !fs.HasAvailableFlags() {
			continue
		}
		if c == c.Root() {
			fmt.Fprintf(&b, "\n%s:\n%s", g.title, fs.FlagUsages())
			continue
		}
		var names []string
		fs.VisitAll(func(fl *pflag.Flag) {
			if !fl.Hidden {
				names = append(names, "--"+fl.Name)
			}
		})
		fmt.Fprintf(&b, "\n%s (see %s --help):\n  %s\n", g.title, c.Root().Name(), strings.Join(names, " "))
	}
	if other.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nGlobal Flags:\n%s", other.FlagUsages())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", c.CommandPath())
	}
	_, err := io.WriteString(w, b.String())
	return err
}
