package cmdutil

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestConfirm(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		tty     bool
		yes     bool
		want    bool
		wantErr error
	}{
		{"--yes answers", "", false, true, true, nil},
		{"no terminal: never pretends", "y\n", false, false, false, ErrNeedsYes},
		{"y", "y\n", true, false, true, nil},
		{"YES", " YES \n", true, false, true, nil},
		{"n", "n\n", true, false, false, nil},
		{"empty is no", "\n", true, false, false, nil},
		{"EOF is no", "", true, false, false, nil},
		{"garbage is no", "\x1b[2Jy\n", true, false, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut strings.Builder
			ios := &IOStreams{In: strings.NewReader(tc.in), Out: io.Discard, ErrOut: &errOut, InTTY: tc.tty}
			got, err := Confirm(context.Background(), ios, "Save? [y/N] ", tc.yes)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Confirm = %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
			if tc.wantErr != nil && errOut.Len() != 0 {
				t.Errorf("asked %q with nobody to answer", errOut.String())
			}
		})
	}
	pr, pw := io.Pipe() // a terminal nobody types into
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ios := &IOStreams{In: pr, Out: io.Discard, ErrOut: io.Discard, InTTY: true}
	if _, err := Confirm(ctx, ios, "? ", false); !errors.Is(err, context.Canceled) {
		t.Fatalf("Confirm after Ctrl-C = %v; want context.Canceled", err)
	}
	if !strings.Contains(ErrNeedsYes.Error(), "--yes") {
		t.Fatalf("ErrNeedsYes does not name --yes: %q", ErrNeedsYes)
	}
}
