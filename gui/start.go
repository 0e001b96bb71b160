package gui

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// errNoDisplay is what Main prints when there is no X display to open a
// window on; GLFW would otherwise panic with a stack trace.
type errNoDisplay struct{ reason string }

func (e errNoDisplay) Error() string {
	return "no display: " + e.reason + " (run it inside a desktop session, or use pomerium-cli in a terminal)"
}

// displayProblem says why no window could open on the X display that
// getenv describes, or nil when its server answers. The desktop drivers
// use X11 (XWayland on Wayland desktops), so DISPLAY must be set and its
// socket must accept a connection.
func displayProblem(getenv func(string) string, dial func(network, addr string) error) error {
	d := getenv("DISPLAY")
	if d == "" {
		if getenv("WAYLAND_DISPLAY") != "" {
			return errNoDisplay{"DISPLAY is not set and the app needs X11 (XWayland) on Wayland"}
		}
		return errNoDisplay{"DISPLAY is not set"}
	}
	network, addr, err := displaySocket(d)
	if err != nil {
		return errNoDisplay{err.Error()}
	}
	if err := dial(network, addr); err != nil {
		return errNoDisplay{fmt.Sprintf("cannot reach the X server of DISPLAY=%q", d)}
	}
	return nil
}

// displaySocket turns DISPLAY ([host]:N[.S], or an absolute socket path as
// XQuartz sets it) into the address X clients connect to.
func displaySocket(d string) (network, addr string, err error) {
	if strings.HasPrefix(d, "/") {
		return "unix", d, nil
	}
	i := strings.LastIndexByte(d, ':')
	if i < 0 {
		return "", "", fmt.Errorf("DISPLAY=%q is not of the form [host]:N", d)
	}
	host, rest := d[:i], d[i+1:]
	num, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 65535-6000 {
		return "", "", fmt.Errorf("DISPLAY=%q is not of the form [host]:N", d)
	}
	host = strings.TrimPrefix(host, "unix/")
	if host == "" || host == "unix" {
		return "unix", "/tmp/.X11-unix/X" + strconv.Itoa(n), nil
	}
	return "tcp", net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(6000+n)), nil
}

// dialDisplay is displayProblem's real dial: connect and hang up at once.
func dialDisplay(network, addr string) error {
	c, err := net.DialTimeout(network, addr, 3*time.Second)
	if err != nil && network == "unix" {
		// Some X servers listen only on the abstract socket.
		c, err = net.DialTimeout(network, "@"+addr, 3*time.Second)
	}
	if err != nil {
		return err
	}
	return c.Close()
}
