package gui

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

// icon.svg is also installed as packaging/pomerium-desktop.svg.
//
//go:embed icon.svg
var iconSVG []byte

var iconResource = fyne.NewStaticResource("pomerium-desktop.svg", iconSVG)
