// Package cmdutil holds what every pomerium-cli command shares: the
// Factory of lazily built dependencies and the IO streams.
package cmdutil

import "io"

// IOStreams are the command's standard streams. Stdout carries data only.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Factory builds shared dependencies lazily. Commands take what they need.
type Factory struct {
	IO *IOStreams
}
