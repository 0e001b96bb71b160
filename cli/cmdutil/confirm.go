package cmdutil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNeedsYes is returned when a command must ask before acting but
// nobody can answer (stdin is not a terminal): it never pretends.
var ErrNeedsYes = errors.New("nothing saved: this needs confirmation and stdin is not a terminal; pass --yes to go ahead without asking")

// Confirm asks prompt on ErrOut and reads y/yes from In. yes (--yes)
// answers for the user; with no terminal on stdin it returns ErrNeedsYes.
// Ctrl-C (ctx) ends the wait.
func Confirm(ctx context.Context, ios *IOStreams, prompt string, yes bool) (bool, error) {
	if yes {
		return true, nil
	}
	if !ios.InTTY {
		return false, ErrNeedsYes
	}
	fmt.Fprint(ios.ErrOut, prompt)
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(io.LimitReader(ios.In, 1<<10)).ReadString('\n')
		ch <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(ios.ErrOut)
		return false, ctx.Err()
	case a := <-ch:
		if a.err != nil && a.err != io.EOF {
			return false, fmt.Errorf("reading the answer: %w", a.err)
		}
		s := strings.ToLower(strings.TrimSpace(a.line))
		return s == "y" || s == "yes", nil
	}
}
