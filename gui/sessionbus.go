package gui

import (
	"os"
	"path/filepath"
)

// EnvSessionBus names the D-Bus session bus (notifications, the tray,
// the desktop's theme settings all go through it).
const EnvSessionBus = "DBUS_SESSION_BUS_ADDRESS"

// sessionBusAddress is what DBUS_SESSION_BUS_ADDRESS should be for the
// app ("" leaves it as it is). With none set, the D-Bus library would
// autolaunch a private bus through dbus-launch on every start: nothing
// listens there (no notification service, no tray), and each such
// dbus-daemon outlives the app (on a test machine hundreds piled up and
// used up the user's inotify instances). So the user's systemd bus is
// named when it exists ($XDG_RUNTIME_DIR/bus), else the bus is disabled.
func sessionBusAddress(getenv func(string) string, isSocket func(string) bool) string {
	if getenv(EnvSessionBus) != "" {
		return ""
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		if p := filepath.Join(dir, "bus"); isSocket(p) {
			return "unix:path=" + p
		}
	}
	return "disabled:"
}

func isSocket(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// useSessionBus applies sessionBusAddress to the process environment.
func useSessionBus() {
	if addr := sessionBusAddress(os.Getenv, isSocket); addr != "" {
		_ = os.Setenv(EnvSessionBus, addr)
	}
}
