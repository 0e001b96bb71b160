package cli

import (
	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/auth"
	"github.com/porthole-dev/porthole/cli/login"
	"github.com/porthole-dev/porthole/cli/logout"
	"github.com/porthole-dev/porthole/cli/routes"
	"github.com/porthole-dev/porthole/cli/tcp"
	"github.com/porthole-dev/porthole/cli/version"
)

// NewCmdRoot builds the command tree. The shared flags are persistent on
// the root so every command, including connections and routes pick, gets
// them through f.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := f.NewRootCommand()
	root.Short = "Reach TCP and web services behind a Pomerium-style proxy"
	root.Long = `pomerium-cli signs in to a Pomerium-style proxy through your browser,
lists the routes you may use, and opens TCP tunnels through it.`
	root.Example = `  pomerium-cli routes list https://proxy.example.com
  pomerium-cli tcp tcp+https://proxy.example.com/db.internal:5432 --listen 127.0.0.1:5432
  ssh -o ProxyCommand='pomerium-cli tcp --listen - %h:%p' ssh.example.com`
	root.Version = version.String()
	root.SetVersionTemplate("pomerium-cli {{.Version}}\n")
	// Before any command's run, never for help or a usage error. No
	// command sets its own PersistentPreRun, which would replace this one.
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if f.OnRun != nil {
			f.OnRun()
		}
	}

	root.AddCommand(
		routes.NewCmdRoutes(f),
		tcp.NewCmdTCP(f, nil),
		login.NewCmdLogin(f, nil),
		logout.NewCmdLogout(f, nil),
		auth.NewCmdAuth(f, nil),
		version.NewCmdVersion(f, nil),
	)
	addExtraCommands(root, f)
	addCompletions(root, f)
	addSuggestions(root)
	setGroupedUsage(root)
	return root
}
