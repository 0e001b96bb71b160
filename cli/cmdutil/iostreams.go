package cmdutil

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/porthole-dev/porthole/internal/termtext"
)

// IOStreams are the command's standard streams. Stdout carries data only;
// prompts, URLs, progress and notices go to ErrOut.
//
// When Out or ErrOut is a terminal it is wrapped in a termtext.Writer, so
// no byte a server or a file supplied can drive the terminal even if a
// surface forgets to escape it (only \n and \t pass). Surfaces still
// escape fields with termtext.Escape so that a table cell stays on one
// line; a full-screen UI renders to RawOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// RawOut is Out without the escaping guard, for the TUI, which emits
	// its own escapes around text it escaped itself. nil means Out.
	RawOut io.Writer
	// InTTY, OutTTY and ErrTTY say whether the stream is a terminal.
	InTTY, OutTTY, ErrTTY bool
}

// NewIOStreams wraps the given streams with their terminal state: a
// stream is a terminal when it is an *os.File attached to one (a real
// terminal check: /dev/null is a character device but no terminal).
func NewIOStreams(in io.Reader, out, errOut io.Writer) *IOStreams {
	s := &IOStreams{
		In: in, Out: out, ErrOut: errOut, RawOut: out,
		InTTY: IsTerminal(in), OutTTY: IsTerminal(out), ErrTTY: IsTerminal(errOut),
	}
	if s.OutTTY {
		s.Out = termtext.NewWriter(out)
	}
	if s.ErrTTY {
		s.ErrOut = termtext.NewWriter(errOut)
	}
	return s
}

// System returns the process's streams with their terminal state.
func System() *IOStreams { return NewIOStreams(os.Stdin, os.Stdout, os.Stderr) }

// TerminalOut is where a full-screen UI draws: RawOut, or Out when unset.
func (s *IOStreams) TerminalOut() io.Writer {
	if s.RawOut != nil {
		return s.RawOut
	}
	return s.Out
}

// IsTerminal reports whether v is an *os.File attached to a terminal.
func IsTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}
