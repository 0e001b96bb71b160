package cli

import (
	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cache"
	"github.com/porthole-dev/porthole/cli/connections"
	"github.com/porthole-dev/porthole/cli/k8s"
	"github.com/porthole-dev/porthole/cli/proxy"
	"github.com/porthole-dev/porthole/cli/servers"
	"github.com/porthole-dev/porthole/cli/status"
	"github.com/porthole-dev/porthole/cli/udp"
)

// addExtraCommands adds the nouns written in their own packages.
func addExtraCommands(root *cobra.Command, f *Factory) {
	root.AddCommand(connections.NewCmdConnections(f))
	root.AddCommand(udp.NewCmdUDP(f, nil))
	root.AddCommand(cache.NewCmdCache(f), k8s.NewCmdK8s(f), proxy.NewCmdProxy(f, nil))
	root.AddCommand(servers.NewCmdServers(f), status.NewCmdStatus(f, nil))
}
