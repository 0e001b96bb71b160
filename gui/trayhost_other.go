//go:build !linux

package gui

// systemTrayHost: macOS and Windows always have a tray (menu bar,
// notification area) for Fyne's tray menu.
func systemTrayHost() bool { return true }
