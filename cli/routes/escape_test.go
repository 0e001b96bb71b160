package routes

import (
	"testing"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/portalclient"
)

// Every field a portal sends reaches the table escaped, whatever it holds.
func TestWriteTableEscapesHostileRoutes(t *testing.T) {
	for _, s := range termtest.Samples {
		routes := []portalclient.Route{
			{Name: s, Type: s, From: s, ConnectCommand: s, Description: s},
		}
		ios, _, out, _ := cmdutil.TestIO()
		if err := writeRoutes(ios, "table", routes); err != nil {
			t.Fatal(err)
		}
		if err := termtest.Check(out.String(), false); err != nil {
			t.Errorf("payload %q: %v", s, err)
		}
		if got, want := len(splitLines(out.String())), 2; got != want {
			t.Errorf("payload %q: table has %d lines; want %d:\n%s", s, got, want, out.String())
		}
		ios, _, out, _ = cmdutil.TestIO()
		if err := writeRoutes(ios, "block", routes); err != nil {
			t.Fatal(err)
		}
		if err := termtest.Check(out.String(), false); err != nil {
			t.Errorf("block format, payload %q: %v", s, err)
		}
		if got, want := len(splitLines(out.String())), 7; got != want {
			t.Errorf("block format, payload %q: %d lines; want %d:\n%s", s, got, want, out.String())
		}
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
