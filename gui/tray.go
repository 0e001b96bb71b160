package gui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
)

// trayApp is the part of desktop.App the tray needs.
type trayApp interface {
	SetSystemTrayMenu(menu *fyne.Menu)
}

// trayMenu is the system tray menu: every connection with its state, a
// click switching it on or off. With a tray, closing the window hides it.
type trayMenu struct {
	w    *MainWindow
	app  trayApp
	menu *fyne.Menu
	last string // the labels shown, to skip rebuilding an unchanged menu
}

func newTrayMenu(a fyne.App, w *MainWindow) *trayMenu {
	ta, ok := a.(trayApp)
	if !ok {
		return nil
	}
	t := &trayMenu{w: w, app: ta}
	// Hide rather than quit only while something runs: Fyne cannot tell
	// whether a tray host is really there, and a hidden window with
	// nothing running and no tray would be a lost app.
	w.win.SetCloseIntercept(w.closeRequested)
	t.refresh()
	return t
}

// closeRequested is the window's close intercept: hide to the tray while
// a connection runs, quit otherwise.
func (w *MainWindow) closeRequested() {
	if w.ctrl.AnyRunning() {
		w.win.Hide()
		return
	}
	w.app.Quit()
}

// refresh rebuilds the menu from the current states.
func (t *trayMenu) refresh() {
	if t == nil {
		return
	}
	show := fyne.NewMenuItem("Show Porthole", func() {
		t.w.win.Show()
		t.w.win.RequestFocus()
	})
	items := []*fyne.MenuItem{show, fyne.NewMenuItemSeparator()}
	for _, c := range t.w.ctrl.Connections() {
		id := c.ID
		s := t.w.ctrl.State(id)
		item := fyne.NewMenuItem(c.Name+" — "+s.Text(), func() { t.w.setRunning(id, !t.w.ctrl.Running(id)) })
		item.Checked = s.Running
		items = append(items, item)
	}
	if len(items) == 2 {
		none := fyne.NewMenuItem("No saved connections", nil)
		none.Disabled = true
		items = append(items, none)
	}
	var key strings.Builder
	for _, it := range items {
		fmt.Fprintf(&key, "%s|%v\n", it.Label, it.Checked)
	}
	if t.menu != nil && key.String() == t.last {
		return
	}
	t.last = key.String()
	t.menu = fyne.NewMenu("Porthole", items...)
	t.app.SetSystemTrayMenu(t.menu)
}
