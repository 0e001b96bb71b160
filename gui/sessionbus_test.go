package gui

import (
	"net"
	"path/filepath"
	"testing"
)

func TestSessionBusAddress(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"set: left alone", map[string]string{EnvSessionBus: "unix:path=/x", "XDG_RUNTIME_DIR": dir}, ""},
		{"systemd user bus", map[string]string{"XDG_RUNTIME_DIR": dir}, "unix:path=" + filepath.Join(dir, "bus")},
		{"runtime dir without a bus", map[string]string{"XDG_RUNTIME_DIR": t.TempDir()}, "disabled:"},
		{"nothing: no autolaunch", nil, "disabled:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sessionBusAddress(func(k string) string { return tc.env[k] }, isSocket)
			if got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}
