package gui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
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
	// installed is set once the menu is handed to the desktop. That waits
	// for a tray host: without one Fyne's tray logs "systray error:
	// failed to register" on every start and shows nothing.
	installed bool
}

func newTrayMenu(a fyne.App, w *MainWindow, host func() bool) *trayMenu {
	ta, ok := a.(trayApp)
	if !ok {
		return nil
	}
	if host == nil {
		host = systemTrayHost
	}
	t := &trayMenu{w: w, app: ta}
	w.trayHost = host
	w.win.SetCloseIntercept(w.closeRequested)
	t.installed = host()
	t.refresh()
	return t
}

// closeRequested is the window's close intercept. With a tray the window
// hides there and connections keep running. Without one a hidden window
// could not be brought back, so closing quits: at once when nothing
// runs, after a confirmation naming what stops when something does.
func (w *MainWindow) closeRequested() {
	if w.trayHost != nil && w.trayHost() && w.tray != nil {
		if !w.tray.installed { // a tray host that came after the start
			w.tray.installed = true
			w.tray.refresh()
		}
		w.win.Hide()
		return
	}
	w.quitRequested("There is no system tray to keep Porthole in. ")
}

// quitRequested quits: at once when nothing runs, else after a
// confirmation naming what stops (why, if not "", opens the message).
func (w *MainWindow) quitRequested(why string) {
	n := w.ctrl.RunningCount()
	if n == 0 {
		w.quit()
		return
	}
	what := "1 running connection"
	if n > 1 {
		what = fmt.Sprintf("%d running connections", n)
	}
	msg := widget.NewLabel(why + "Quitting stops " + what + ".")
	msg.Wrapping = fyne.TextWrapWord
	w.confirm = dialog.NewCustomConfirm("Quit Porthole?", "Quit", "Cancel", msg, func(ok bool) {
		w.confirm = nil
		if ok {
			w.quit()
		}
	}, w.win)
	w.confirm.Resize(fyne.NewSize(420, 180))
	w.confirm.Show()
}

// refresh rebuilds the menu from the current states.
func (t *trayMenu) refresh() {
	if t == nil || !t.installed {
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

// quit asks the app to quit, telling BeforeQuit first.
func (w *MainWindow) quit() {
	if w.beforeQuit != nil {
		w.beforeQuit()
	}
	w.app.Quit()
}
