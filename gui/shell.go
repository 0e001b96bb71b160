package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/cli/version"
	"github.com/porthole-dev/porthole/connections"
)

// Shortcuts are the main window's keyboard shortcuts (Ctrl, or Cmd on
// macOS via fyne.KeyModifierShortcutDefault), shown in About.
var Shortcuts = []struct {
	Key  fyne.KeyName
	What string
}{
	{fyne.KeyN, "New connection"},
	{fyne.KeyF, "Find (filter)"},
	{fyne.KeyReturn, "Connect / disconnect the selected connection"},
	{fyne.KeyDelete, "Delete the selected connection"},
	{fyne.KeyQ, "Quit"},
}

// shortcutAction is what Shortcuts[i] does.
func (w *MainWindow) shortcutAction(k fyne.KeyName) func() {
	switch k {
	case fyne.KeyN:
		return func() { w.openForm(connections.Connection{}, "Add connection") }
	case fyne.KeyF:
		return func() { w.win.Canvas().Focus(w.filter) }
	case fyne.KeyReturn:
		return func() {
			if w.selected != "" {
				w.setRunning(w.selected, !w.ctrl.Running(w.selected))
			}
		}
	case fyne.KeyDelete:
		return func() {
			if w.selected != "" {
				w.confirmDelete(w.selected)
			}
		}
	case fyne.KeyQ:
		return func() { w.quitRequested("") }
	}
	return nil
}

func (w *MainWindow) addShortcuts() {
	for _, s := range Shortcuts {
		f := w.shortcutAction(s.Key)
		w.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: s.Key, Modifier: fyne.KeyModifierShortcutDefault},
			func(fyne.Shortcut) { f() })
	}
}

// aboutText is the About dialog's body: name, version and commit, and
// the shortcuts.
func aboutText() string {
	s := "Porthole (pomerium-desktop)\nVersion " + version.String() + "\n\nKeyboard shortcuts:\n"
	for _, sc := range Shortcuts {
		s += "  Ctrl+" + string(sc.Key) + "  " + sc.What + "\n"
	}
	return s
}

func (w *MainWindow) showAbout() {
	l := widget.NewLabel(aboutText())
	w.lastInfo = l.Text
	d := dialog.NewCustom("About Porthole", "Close", l, w.win)
	d.Show()
}

// emptyState is what the list shows with no connections: the two ways
// to start.
func (w *MainWindow) emptyState() fyne.CanvasObject {
	w.empty = widget.NewLabel("No connections yet. Import the routes a Pomerium portal offers you, or add one by hand.")
	w.empty.Wrapping = fyne.TextWrapWord
	w.emptyPortalBtn = widget.NewButtonWithIcon("Import from portal", theme.DownloadIcon(), w.openPortalImport)
	w.emptyPortalBtn.Importance = widget.HighImportance
	w.emptyAddBtn = widget.NewButtonWithIcon("Add connection", theme.ContentAddIcon(), func() { w.openForm(connections.Connection{}, "Add connection") })
	w.emptyBox = container.NewVBox(w.empty, container.NewHBox(w.emptyPortalBtn, w.emptyAddBtn))
	return w.emptyBox
}

// updateBulk enables the bulk actions only when they would do something:
// Connect all when a shown connection is off, Disconnect all when one is
// on, Export when there is anything to export.
func (w *MainWindow) updateBulk() {
	anyOff, anyOn := false, false
	for _, c := range w.shown {
		if w.ctrl.Running(c.ID) {
			anyOn = true
		} else {
			anyOff = true
		}
	}
	setEnabled(w.connectAllBtn, anyOff)
	setEnabled(w.disconnectAllBtn, anyOn)
	setEnabled(w.exportBtn, len(w.ctrl.Connections()) > 0)
}

func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}
