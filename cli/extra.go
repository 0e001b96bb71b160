package cli

import "github.com/spf13/cobra"

// addExtraCommands adds the nouns owned by other packages once they exist
// (connections).
func addExtraCommands(root *cobra.Command, f *Factory) {}
