// Command pomerium-desktop is the Fyne desktop app; see package gui.
package main

import (
	"os"

	"github.com/porthole-dev/porthole/gui"
)

func main() { os.Exit(gui.Main(os.Args[1:])) }
