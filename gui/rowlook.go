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

// destMaxRunes is how much of a destination a row shows.
const destMaxRunes = 44
