package cmdutil

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPty returns both ends of a fresh pseudo-terminal.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the pty: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// /dev/null is a character device but no terminal; a pty is one.
func TestIsTerminal(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	_, pts := openPty(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct {
		name string
		v    any
		want bool
	}{
		{"/dev/null", null, false},
		{"pipe", r, false},
		{"pty", pts, true},
		{"buffer", &strings.Builder{}, false},
		{"nil", nil, false},
	} {
		if got := IsTerminal(tc.v); got != tc.want {
			t.Errorf("IsTerminal(%s) = %v; want %v", tc.name, got, tc.want)
		}
	}
	ios := NewIOStreams(null, w, w)
	if ios.InTTY || ios.OutTTY || ios.ErrTTY {
		t.Errorf("streams on /dev/null and a pipe report a terminal: %+v", ios)
	}
}

// On a terminal, what any command writes to Out or ErrOut is escaped:
// a raw escape from a forgotten surface never reaches the terminal.
func TestTerminalStreamsAreGuarded(t *testing.T) {
	master, pts := openPty(t)
	ios := NewIOStreams(pts, pts, pts)
	if !ios.InTTY || !ios.OutTTY || !ios.ErrTTY {
		t.Fatalf("pty streams not seen as terminals: %+v", ios)
	}
	fmt.Fprintf(ios.Out, "name\x1b]52;c;ZXZpbA==\x07\u009b2J\u202e\tok\n")
	fmt.Fprintf(ios.ErrOut, "err\x1b[2J\n")
	if _, err := ios.TerminalOut().Write([]byte("raw\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 0, 256)
	buf := make([]byte, 256)
	_ = master.SetReadDeadline(time.Now().Add(30 * time.Second))
	// Read through the last line's end: the pty may hand over "raw" and
	// its "\r\n" in separate reads.
	for !strings.Contains(string(got), "raw\r\n") {
		n, err := master.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF || (err != nil && !os.IsTimeout(err)) {
			break
		}
		if err != nil {
			t.Fatalf("reading the pty: %v (so far %q)", err, got)
		}
	}
	out := strings.ReplaceAll(string(got), "\r\n", "\n") // the tty's own output processing
	want := "name\\x1b]52;c;ZXZpbA==\\x07\\u009b2J\\u202e\tok\nerr\\x1b[2J\nraw\n"
	if out != want {
		t.Errorf("terminal received %q; want %q", out, want)
	}
}
