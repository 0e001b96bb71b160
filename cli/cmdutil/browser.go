package cmdutil

import (
	"context"

	"github.com/porthole-dev/porthole/authflow"
)

// browserOpener picks how the sign-in URL is opened: --no-browser opens
// nothing (authflow prints the URL either way), --browser-cmd runs that
// command with the URL as its last argument (split like a shell would),
// else the desktop's default browser.
func (f *Factory) browserOpener() func(context.Context, string) error {
	switch {
	case f.OpenURL != nil:
		return f.OpenURL
	case f.Opts.NoBrowser:
		return nil
	case f.Opts.BrowserCmd != "":
		return authflow.CommandOpener(f.Opts.BrowserCmd)
	}
	return authflow.BrowserOpener()
}
