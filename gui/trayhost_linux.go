package gui

import "github.com/godbus/dbus/v5"

// systemTrayHost reports whether a StatusNotifierItem host is on the
// session bus: Fyne's Linux tray registers with it, and where none runs
// (a bare X server, some desktops without the extension) the tray menu
// is never shown.
func systemTrayHost() bool {
	conn, err := dbus.SessionBus() // shared connection: not ours to close
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
