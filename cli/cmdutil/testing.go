package cmdutil

import (
	"bytes"
	"io"
)

// TestIO returns IOStreams over buffers (not terminals) for tests.
func TestIO() (ios *IOStreams, in *bytes.Buffer, out *bytes.Buffer, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: io.Reader(in), Out: out, ErrOut: errOut}, in, out, errOut
}
