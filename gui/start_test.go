package gui

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/testutil"
)

func TestDisplayProblem(t *testing.T) {
	refused := errors.New("connection refused")
	for _, tc := range []struct {
		env      map[string]string
		dialErr  error
		wantDial string // network+" "+addr; "" = no dial
		want     string // substring of the error; "" = nil
	}{
		{map[string]string{}, nil, "", "DISPLAY is not set"},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, nil, "", "needs X11 (XWayland)"},
		{map[string]string{"DISPLAY": ":0"}, nil, "unix /tmp/.X11-unix/X0", ""},
		{map[string]string{"DISPLAY": ":1.0"}, nil, "unix /tmp/.X11-unix/X1", ""},
		{map[string]string{"DISPLAY": "unix:3"}, nil, "unix /tmp/.X11-unix/X3", ""},
		{map[string]string{"DISPLAY": "localhost:10.0"}, nil, "tcp localhost:6010", ""},
		{map[string]string{"DISPLAY": "[::1]:2"}, nil, "tcp [::1]:6002", ""},
		{map[string]string{"DISPLAY": "/private/tmp/launch-x/org.xquartz:0"}, nil, "unix /private/tmp/launch-x/org.xquartz:0", ""},
		{map[string]string{"DISPLAY": ":7"}, refused, "unix /tmp/.X11-unix/X7", `cannot reach the X server of DISPLAY=":7"`},
		{map[string]string{"DISPLAY": "bogus"}, nil, "", `DISPLAY="bogus" is not of the form [host]:N`},
		{map[string]string{"DISPLAY": ":x"}, nil, "", "is not of the form"},
		{map[string]string{"DISPLAY": ":99999"}, nil, "", "is not of the form"},
	} {
		var dialed string
		err := displayProblem(func(k string) string { return tc.env[k] }, func(network, addr string) error {
			dialed = network + " " + addr
			return tc.dialErr
		})
		if dialed != tc.wantDial {
			t.Errorf("%v: dialed %q; want %q", tc.env, dialed, tc.wantDial)
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: got %v; want nil", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: got %v; want an error containing %q", tc.env, err, tc.want)
		}
	}
}

// TestStartWithoutDisplay runs the real binary with no usable display
// under several locales: one line naming the problem, exit 1, no panic,
// no Fyne locale warning.
func TestStartWithoutDisplay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := testutil.BuildBinary(t, "pomerium-desktop")
	base := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), EnvNoKeyring + "=1"}
	for _, display := range []string{"", ":4999", "bogus"} {
		for _, loc := range []string{"C", "C.UTF-8", "POSIX", "en_US.UTF-8", "de_DE@euro", ""} {
			cmd := exec.Command(bin)
			cmd.Env = append(base, "DISPLAY="+display, "LC_ALL="+loc, "LANG="+loc)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Errorf("DISPLAY=%q LC_ALL=%q: got %v; want exit 1", display, loc, err)
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "pomerium-desktop: no display: ") || !strings.Contains(lines[0], "pomerium-cli") {
				t.Errorf("DISPLAY=%q LC_ALL=%q: stderr %q; want one line \"pomerium-desktop: no display: ...\" with the way out", display, loc, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("DISPLAY=%q LC_ALL=%q: stdout %q; want nothing", display, loc, stdout.String())
			}
		}
	}
}

func TestVersionFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := testutil.BuildBinary(t, "pomerium-desktop")
	cmd := exec.Command(bin, "--version")
	cmd.Env = []string{"LC_ALL=C.UTF-8", "HOME=" + t.TempDir()} // no DISPLAY: --version needs none
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "pomerium-desktop ") || !strings.Contains(string(out), "commit ") || strings.Count(string(out), "\n") != 1 {
		t.Errorf("--version: got %q (%v); want one line \"pomerium-desktop VERSION (commit ...)\"", out, err)
	}
}
