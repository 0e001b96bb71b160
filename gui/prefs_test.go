package gui

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/testutil"
)

func TestRepairPreferences(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content *string // nil: no file
		want    string  // "" with content nil: still no file
	}{
		{name: "missing stays missing"},
		{name: "empty (an exit cut short)", content: ptr(""), want: "{}\n"},
		{name: "blank", content: ptr(" \n\t"), want: "{}\n"},
		{name: "cut mid-object", content: ptr(`{"a":`), want: "{}\n"},
		{name: "not an object", content: ptr(`[1,2]`), want: "{}\n"},
		{name: "null", content: ptr(`null`), want: "{}\n"},
		{name: "valid is left alone", content: ptr(`{"k":"v"}` + "\n"), want: `{"k":"v"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "fyne", AppID, "preferences.json")
			if tc.content != nil {
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(*tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := repairPreferences(p); err != nil {
				t.Fatalf("repairPreferences: %v", err)
			}
			b, err := os.ReadFile(p)
			if tc.content == nil {
				if !os.IsNotExist(err) {
					t.Errorf("got a file (%q, %v); want none", b, err)
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Errorf("file: got %q (%v); want %q", b, err, tc.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// daemonsOf lists the dbus-daemon processes started with HOME=home.
func daemonsOf(t *testing.T, home string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "dbus-daemon" {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && slices.Contains(strings.Split(string(env), "\x00"), "HOME="+home) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestQuietStart runs the real pomerium-desktop under Xvfb with a fresh
// home whose Fyne preferences file was left empty (an exit cut short) and
// on a session bus with no tray host: it must print nothing at all,
// neither Fyne's "Preferences load error: EOF" nor the tray's "failed to
// register", on this start or the next.
func TestQuietStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary under Xvfb")
	}
	xvfb := testutil.Require(t, "Xvfb")
	xdotool := testutil.Require(t, "xdotool")
	bin := testutil.BuildBinary(t, "pomerium-desktop")
	display := startXvfb(t, xvfb)
	home := t.TempDir()
	cfg := filepath.Join(home, ".config")
	prefs := fynePrefsPath(home, cfg)
	if err := os.MkdirAll(filepath.Dir(prefs), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prefs, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		cmd := exec.Command(bin)
		env := os.Environ()
		if run == 2 { // no session bus named: none may be autolaunched
			env = slices.DeleteFunc(env, func(kv string) bool {
				return strings.HasPrefix(kv, EnvSessionBus+"=") || strings.HasPrefix(kv, "XDG_RUNTIME_DIR=")
			})
		}
		cmd.Env = append(env,
			"DISPLAY="+display, "LIBGL_ALWAYS_SOFTWARE=1", "HOME="+home, "XDG_CONFIG_HOME="+cfg,
			"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
			EnvNoKeyring+"=1", connections.EnvPath+"=", "LANG=C", "DBUS_SESSION_BUS_ADDRESS="+sessionBus(t))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		run := run
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("run %d output:\nstdout: %s\nstderr: %s", run, stdout.String(), stderr.String())
			}
		})
		poll(t, exited, "the Porthole window", func() bool {
			c := exec.Command(xdotool, "search", "--name", "Porthole")
			c.Env = append(os.Environ(), "DISPLAY="+display)
			b, err := c.Output()
			return err == nil && strings.TrimSpace(string(b)) != ""
		})
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("run %d: exit: got %v; want 0", run, err)
			}
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("run %d: no exit within 60s of SIGTERM", run)
		}
		if pids := daemonsOf(t, home); len(pids) > 0 {
			t.Errorf("run %d: dbus-daemon %v left running for the app's home; want none autolaunched", run, pids)
		}
		if stdout.Len() > 0 || stderr.Len() > 0 {
			t.Errorf("run %d: got output; want none:\nstdout: %s\nstderr: %s", run, stdout.String(), stderr.String())
		}
	}
}
