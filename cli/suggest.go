package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/editdist"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// "Did you mean" at every level: a mistyped command (`rotes list`), a
// mistyped subcommand (`routes lst`) and a mistyped flag (`--alternat-ca-path`)
// each name the nearest real one, on the error's one line.

// addSuggestions makes every noun (a command with subcommands) answer an
// unknown subcommand with the nearest ones; a noun run bare keeps what it
// did (its own usage error, or its help).
func addSuggestions(root *cobra.Command) {
	root.SuggestionsMinimumDistance = 2
	walk(root, func(c *cobra.Command) {
		if c == root || !c.HasSubCommands() {
			return
		}
		c.SuggestionsMinimumDistance = 2
		c.Args = cobra.ArbitraryArgs // RunE below judges the words
		orig := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				if s := suggestCommand(cmd, args[0]); s != "" {
					return cmdutil.Usagef("unknown command %q for %s; %s", termtext.Escape(args[0]), cmd.CommandPath(), s)
				}
			}
			if orig != nil {
				return orig(cmd, args)
			}
			if len(args) > 0 {
				return cmdutil.Usagef("unknown command %q for %s: see %s --help", termtext.Escape(args[0]), cmd.CommandPath(), cmd.CommandPath())
			}
			return cmd.Help()
		}
	})
}

// suggestCommand is "did you mean ...?" for typo under cmd, or "".
func suggestCommand(cmd *cobra.Command, typo string) string {
	s := cmd.SuggestionsFor(typo)
	if len(s) == 0 {
		return ""
	}
	for i := range s {
		s[i] = cmd.CommandPath() + " " + s[i]
	}
	return "did you mean " + strings.Join(s, " or ") + "?"
}

// suggestFor adds the nearest command or flag to a usage error cobra
// raised itself (an unknown command at the root, an unknown flag); "" when
// there is nothing near.
func suggestFor(cmd *cobra.Command, msg string) string {
	if name, ok := unknownCommand(msg); ok {
		return suggestCommand(cmd.Root(), name)
	}
	if name, ok := unknownFlag(msg); ok {
		return suggestFlag(cmd, name)
	}
	return ""
}

// unknownCommand is the name in cobra's `unknown command "NAME" for "..."`.
func unknownCommand(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, `unknown command "`)
	if !ok {
		return "", false
	}
	name, rest, ok := strings.Cut(rest, `"`)
	if !ok || !strings.HasPrefix(rest, ` for "`) {
		return "", false
	}
	return name, true
}

// unknownFlag is the flag's name in pflag's "unknown flag: --NAME" and
// "unknown shorthand flag: 'N' in -N".
func unknownFlag(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "unknown flag: ")
	if !ok {
		if rest, ok = strings.CutPrefix(msg, "unknown shorthand flag: "); !ok {
			return "", false
		}
	}
	rest = strings.TrimPrefix(rest, "'")
	rest = strings.TrimPrefix(rest, "-")
	rest = strings.TrimPrefix(rest, "-")
	name, _, _ := strings.Cut(rest, "'")
	name, _, _ = strings.Cut(name, " ")
	return name, name != ""
}

// suggestFlag names the flags of cmd (its own and inherited) within an
// edit distance of 2 of typo, or sharing its prefix.
func suggestFlag(cmd *cobra.Command, typo string) string {
	typo = strings.TrimLeft(typo, "-")
	if i := strings.IndexByte(typo, '='); i >= 0 {
		typo = typo[:i]
	}
	var hits []string
	seen := map[string]bool{}
	visit := func(fl *pflag.Flag) {
		if fl.Hidden || seen[fl.Name] {
			return
		}
		seen[fl.Name] = true
		if editdist.Distance(typo, fl.Name) <= 2 || len(typo) >= 3 && strings.HasPrefix(fl.Name, typo) {
			hits = append(hits, "--"+fl.Name)
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if len(hits) == 0 || len(hits) > 3 {
		return ""
	}
	return "did you mean " + strings.Join(hits, " or ") + "?"
}

// withSuggestion appends s to a one-line message.
func withSuggestion(msg, s string) string {
	if s == "" {
		return msg
	}
	return fmt.Sprintf("%s; %s", msg, s)
}
