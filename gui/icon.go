package gui

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

// icon.png is icon.svg rendered at 256x256 (window managers want a
// bitmap); both are also installed from packaging/.
//
//go:embed icon.png
var iconPNG []byte

var iconResource = fyne.NewStaticResource("pomerium-desktop.png", iconPNG)
