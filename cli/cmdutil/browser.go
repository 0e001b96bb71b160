package cmdutil

import (
	"context"
	"io"

	"github.com/pkg/browser"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// browserOpener picks how the sign-in URL is opened: --no-browser opens
// nothing (authflow prints the URL either way), --browser-cmd runs that
// command with the URL as its last argument (split like a shell would),
// else the desktop's default browser. The opener's own output (xdg-open's
// complaints, a browser's log) is hidden unless --verbose.
func (f *Factory) browserOpener() func(context.Context, string) error {
	var noise io.Writer
	if f.Opts.Verbose {
		noise = f.IO.ErrOut
	}
	switch {
	case f.OpenURL != nil:
		return f.OpenURL
	case f.Opts.NoBrowser:
		return nil
	case f.Opts.BrowserCmd != "":
		return authflow.CommandOpenerTo(f.Opts.BrowserCmd, noise)
	}
	// pkg/browser only has package-level writers for its helper's output.
	if noise == nil {
		noise = io.Discard
	}
	browser.Stdout, browser.Stderr = noise, noise
	return authflow.BrowserOpener()
}

// spinnerOut is the raw terminal behind stderr for the sign-in spinner, or
// nil when stderr is no terminal (a log gets one plain line instead).
func (f *Factory) spinnerOut() io.Writer {
	if !f.IO.ErrTTY {
		return nil
	}
	if w, ok := f.IO.ErrOut.(*termtext.Writer); ok {
		return w.Unwrap()
	}
	return nil
}
