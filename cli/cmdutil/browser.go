package cmdutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/pkg/browser"
)

// browserOpener picks how the sign-in URL is opened: --no-browser opens
// nothing (authflow prints the URL either way), --browser-cmd runs that
// command with the URL as its last argument, else the desktop's default.
func (f *Factory) browserOpener() func(context.Context, string) error {
	switch {
	case f.OpenURL != nil:
		return f.OpenURL
	case f.Opts.NoBrowser:
		return nil
	case f.Opts.BrowserCmd != "":
		return commandOpener(f.Opts.BrowserCmd, f)
	}
	return func(_ context.Context, u string) error {
		if err := browser.OpenURL(u); err != nil {
			return fmt.Errorf("opening a browser (use --browser-cmd or --no-browser): %w", err)
		}
		return nil
	}
}

// commandOpener runs cmdline with the URL appended. A cmdline that names
// an existing file is one program (its path may hold spaces); otherwise it
// is split on spaces into a program and its first arguments.
func commandOpener(cmdline string, f *Factory) func(context.Context, string) error {
	return func(_ context.Context, u string) error {
		args := []string{cmdline}
		if _, err := os.Stat(cmdline); err != nil {
			args = strings.Fields(cmdline)
		}
		cmd := exec.Command(args[0], append(args[1:], u)...)
		// The browser's output is not ours to print: stdout carries data.
		if f.Opts.Verbose {
			cmd.Stderr = f.IO.ErrOut
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("running --browser-cmd %q: %w", cmdline, err)
		}
		// The browser may outlive the sign-in; reap it whenever it exits.
		go func() { _ = cmd.Wait() }()
		return nil
	}
}
