package cli

import (
	"io"

	"github.com/porthole-dev/porthole/cli/cmdutil"
)

// Factory is re-exported from cmdutil so command packages can take it
// without importing cli (which imports them).
type Factory = cmdutil.Factory

// NewFactory builds a factory over the given streams. Terminal state is
// detected when they are *os.File.
func NewFactory(in io.Reader, out, errOut io.Writer) *Factory {
	return &cmdutil.Factory{IO: cmdutil.NewIOStreams(in, out, errOut)}
}
