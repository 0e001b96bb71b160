// Package gui is pomerium-desktop, the Fyne desktop app: saved
// connections with tags, import from a portal, connect and disconnect,
// live status and logs.
package gui

import (
	"fmt"
	"os"
)

// Main runs the desktop app and returns the exit code.
func Main(args []string) int {
	fmt.Fprintln(os.Stderr, "pomerium-desktop: not implemented yet")
	return 1
}
