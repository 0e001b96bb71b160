package cmdutil

import (
	"io"
	"os"
)

// IOStreams are the command's standard streams. Stdout carries data only;
// prompts, URLs, progress and notices go to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY, OutTTY and ErrTTY say whether the stream is a terminal.
	InTTY, OutTTY, ErrTTY bool
}

// NewIOStreams wraps the given streams with their terminal state: a
// stream is a terminal when it is an *os.File attached to one.
func NewIOStreams(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{
		In: in, Out: out, ErrOut: errOut,
		InTTY: isTerminal(in), OutTTY: isTerminal(out), ErrTTY: isTerminal(errOut),
	}
}

// System returns the process's streams with their terminal state.
func System() *IOStreams { return NewIOStreams(os.Stdin, os.Stdout, os.Stderr) }

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
