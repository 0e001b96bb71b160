package authflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/pkg/browser"
)

// BrowserOpener opens URLs in the desktop's default browser
// (github.com/pkg/browser). It waits at most a few seconds for the helper
// (xdg-open, open, start) so a helper that never returns cannot stall the
// sign-in; the URL is printed either way.
func BrowserOpener() func(ctx context.Context, url string) error {
	return func(ctx context.Context, u string) error {
		done := make(chan error, 1)
		go func() { done <- browser.OpenURL(u) }()
		tm := time.NewTimer(5 * time.Second)
		defer tm.Stop()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("opening a browser (use --browser-cmd or --no-browser): %w", err)
			}
			return nil
		case <-tm.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CommandOpener runs cmdline (--browser-cmd) with the URL as its last
// argument, its own output discarded. See CommandOpenerTo.
func CommandOpener(cmdline string) func(ctx context.Context, url string) error {
	return CommandOpenerTo(cmdline, nil)
}

// openerGrace is how long a --browser-cmd is watched for a failing exit:
// a browser that is still running by then is taken as opened (it may
// outlive the sign-in), and it is reaped in the background.
const openerGrace = 3 * time.Second

// CommandOpenerTo runs cmdline (--browser-cmd) with the URL as its last
// argument. cmdline is split like a shell splits a simple command line
// (spaces, single and double quotes, backslash escapes) and run without a
// shell. The command's stdout and stderr go to noise (nil discards them:
// an opener's chatter is not ours to show unless --verbose). A start
// failure (no such program) or a non-zero exit within openerGrace is
// returned, naming the command.
func CommandOpenerTo(cmdline string, noise io.Writer) func(ctx context.Context, url string) error {
	return func(ctx context.Context, u string) error {
		args, err := SplitCommand(cmdline)
		if err != nil {
			return fmt.Errorf("--browser-cmd %q: %w", cmdline, err)
		}
		cmd := exec.Command(args[0], append(args[1:], u)...)
		cmd.Stdout, cmd.Stderr = noise, noise
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("running --browser-cmd %q: %w", cmdline, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		tm := time.NewTimer(openerGrace)
		defer tm.Stop()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("--browser-cmd %q failed: %w", cmdline, err)
			}
			return nil
		case <-tm.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// SplitCommand splits a command line the way a POSIX shell splits a simple
// command: whitespace separates words, '...' is literal, "..." allows \"
// \\ \$ \` escapes, and a backslash outside quotes escapes the next byte.
func SplitCommand(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, errEmptyCommand
	}
	return args, nil
}
