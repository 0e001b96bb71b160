package authflow_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"chromium --headless", []string{"chromium", "--headless"}, false},
		{`"/opt/my browser/bin" --new-window`, []string{"/opt/my browser/bin", "--new-window"}, false},
		{`open -a 'Google Chrome'`, []string{"open", "-a", "Google Chrome"}, false},
		{`a\ b "c\"d" 'e\f'`, []string{"a b", `c"d`, `e\f`}, false},
		{"", nil, true},
		{`"unterminated`, nil, true},
		{`'unterminated`, nil, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := authflow.SplitCommand(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %q; want an error", got)
				}
				return
			}
			if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestCommandOpener(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	script := filepath.Join(dir, "my browser.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > \""+out+".tmp\" && mv \""+out+".tmp\" \""+out+"\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	open := authflow.CommandOpener(`"` + script + `" --flag 'two words'`)
	const u = "https://proxy.example.com/.pomerium/sign_in?a=1&b=2"
	if err := open(context.Background(), u); err != nil {
		t.Fatalf("open: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	var b []byte
	for time.Now().Before(deadline) {
		if b, _ = os.ReadFile(out); len(b) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling the file the child writes
	}
	if got, want := string(b), "--flag\ntwo words\n"+u+"\n"; got != want {
		t.Fatalf("arguments: got %q; want %q", got, want)
	}
	if err := authflow.CommandOpener("/nonexistent/browser")(context.Background(), u); err == nil || !strings.Contains(err.Error(), "--browser-cmd") {
		t.Fatalf("missing program: got %v; want an error naming --browser-cmd", err)
	}
}
