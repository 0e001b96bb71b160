// Command pomerium-desktop is the Fyne desktop app; see package gui.
package main

import (
	"os"

	// First: Fyne reads the locale in its init.
	_ "github.com/porthole-dev/porthole/internal/quietlocale"

	"github.com/porthole-dev/porthole/gui"
)

func main() { os.Exit(gui.Main(os.Args[1:])) }
