package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// Shell completion that knows things: remembered servers, cached route
// names, saved connections and their tags. Everything comes from local
// files (servers.json, the routes cache, the connections file): a
// completion never makes a network call or starts a sign-in, so a route
// list older than the cache TTL still completes, and a server never
// listed completes no route names.

// serverArgCommands take a server URL as their first argument.
var serverArgCommands = []string{
	"routes list", "routes pick", "login", "logout", "status", "auth",
	"k8s exec-credential", "k8s flush-credentials", "servers forget",
}

// savedArgCommands take saved connection names or ids (rm takes several).
var savedArgCommands = map[string]bool{"connections connect": false, "connections edit": false, "connections rm": true}

// outputValues are the --output values of commands that did not register
// their own completion.
var outputValues = map[string][]string{"connections list": {"table", "json", "yaml"}}

// addCompletions wires the completion functions onto the built tree; one
// place, so each command file stays about its command.
func addCompletions(root *cobra.Command, f *Factory) {
	walk(root, func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		for _, p := range serverArgCommands {
			if path == p && c.ValidArgsFunction == nil {
				c.ValidArgsFunction = firstArg(func() []string { return serverURLs(f) })
			}
		}
		if many, ok := savedArgCommands[path]; ok && c.ValidArgsFunction == nil {
			names := func() []string { return savedNames(f) }
			if many {
				c.ValidArgsFunction = anyArg(names)
			} else {
				c.ValidArgsFunction = firstArg(names)
			}
		}
		switch path {
		case "tcp", "udp":
			typ := path
			c.ValidArgsFunction = firstArg(func() []string { return routeNames(f, typ) })
		}
		if c.Flags().Lookup("tag") != nil {
			_ = c.RegisterFlagCompletionFunc("tag", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return savedTags(f), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if c.Flags().Lookup("route") != nil {
			_ = c.RegisterFlagCompletionFunc("route", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return routeNames(f, ""), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if c.Flags().Lookup("pomerium-url") != nil {
			_ = c.RegisterFlagCompletionFunc("pomerium-url", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return serverURLs(f), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if c.Flags().Lookup("portal") != nil {
			_ = c.RegisterFlagCompletionFunc("portal", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return serverURLs(f), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if vs, ok := outputValues[path]; ok && c.Flags().Lookup("output") != nil {
			_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(vs, cobra.ShellCompDirectiveNoFileComp))
		}
	})
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

type completer = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

func firstArg(list func() []string) completer {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return list(), cobra.ShellCompDirectiveNoFileComp
	}
}

func anyArg(list func() []string) completer {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return list(), cobra.ShellCompDirectiveNoFileComp
	}
}

// completion is one candidate with its description, both made safe for a
// shell's completion menu (one line, no controls, no tab).
func completion(value, desc string) string {
	v := termtext.Escape(value)
	if strings.ContainsAny(v, " \t\\") {
		return "" // not a word the shell could take back as typed
	}
	if desc == "" {
		return v
	}
	return v + "\t" + termtext.Escape(desc)
}

func serverURLs(f *cmdutil.Factory) []string {
	ps, _ := f.Profiles()
	var out []string
	for _, p := range ps {
		if c := completion(p.URL, "last used "+p.LastUsed.Local().Format("2006-01-02 15:04")); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// routeNames are the cached route names of the remembered server, of
// type typ ("" = tcp and udp).
func routeNames(f *cmdutil.Factory, typ string) []string {
	last, err := f.LastServer()
	if err != nil || last == "" {
		return nil
	}
	u, err := cmdutil.ParseServerURL(last)
	if err != nil {
		return nil
	}
	rs, _, _ := f.CachedRoutes(u)
	var out []string
	for _, r := range rs {
		if !cmdutil.RouteOfType(r.Type, typ) || !cmdutil.LooksLikeRouteName(r.Name) {
			continue
		}
		desc := r.Description
		if desc == "" {
			desc = r.From
		}
		if c := completion(r.Name, desc); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func savedNames(f *cmdutil.Factory) []string {
	list, _ := f.ConnectionStore().List()
	var out []string
	for _, c := range list {
		if n := completion(c.Name, c.Destination); n != "" {
			out = append(out, n)
		}
		if n := completion(c.ID, c.Name); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func savedTags(f *cmdutil.Factory) []string {
	list, _ := f.ConnectionStore().List()
	var out []string
	for _, t := range saved.AllTags(list) {
		if c := completion(t, ""); c != "" {
			out = append(out, c)
		}
	}
	return out
}
