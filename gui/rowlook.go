package gui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Dot kinds: the row's status dot.
const (
	dotOff        = "off"
	dotConnecting = "connecting" // starting, or waiting for a sign-in
	dotListening  = "listening"
	dotActive     = "active"
	dotError      = "error"
)

// dotKind is the status dot a state shows.
func dotKind(s State) string {
	switch {
	case s.SignInURL != "" || s.Running && s.Starting:
		return dotConnecting
	case !s.Running && s.Err != nil:
		return dotError
	case !s.Running:
		return dotOff
	case s.Active > 0:
		return dotActive
	case s.Err != nil:
		return dotError
	}
	return dotListening
}

func dotColor(kind string) color.Color {
	name := map[string]fyne.ThemeColorName{
		dotOff:        theme.ColorNameDisabled,
		dotConnecting: theme.ColorNameWarning,
		dotListening:  theme.ColorNamePrimary,
		dotActive:     theme.ColorNameSuccess,
		dotError:      theme.ColorNameError,
	}[kind]
	if name == "" {
		name = theme.ColorNameDisabled
	}
	return theme.Color(name)
}

// shortenMiddle keeps s to at most max runes by cutting its middle, so
// both the proxy host and the route's port stay readable:
// "tcp+https://proxy.example.com/…-db.internal:5432".
func shortenMiddle(s string, max int) string {
	r := []rune(s)
	if len(r) <= max || max < 5 {
		return s
	}
	head := (max - 1) / 2
	tail := max - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// destMaxRunes is how much of a destination a row shows.
const destMaxRunes = 44
