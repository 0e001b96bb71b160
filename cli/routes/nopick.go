package routes

import (
	"github.com/spf13/cobra"

	"github.com/porthole-dev/porthole/cli/cmdutil"
)

// addPick registers `routes pick` once pick.go lands.
func addPick(cmd *cobra.Command, f *cmdutil.Factory) {}
