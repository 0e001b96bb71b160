package connections

import (
	"bytes"
	"strings"
	"testing"

	saved "github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

// A store written by another program (or by hand) may hold anything;
// the table shows it escaped, one row per connection.
func TestWriteTableEscapesHostileConnections(t *testing.T) {
	for _, s := range termtest.Samples {
		list := []saved.Connection{{ID: s, Name: s, Destination: s, ListenAddr: s, Tags: []string{s, s}}}
		var out bytes.Buffer
		if err := writeTable(&out, list); err != nil {
			t.Fatal(err)
		}
		if err := termtest.Check(out.String(), false); err != nil {
			t.Errorf("payload %q: %v", s, err)
		}
		if n := strings.Count(out.String(), "\n"); n != 2 {
			t.Errorf("payload %q: %d lines; want 2:\n%s", s, n, out.String())
		}
	}
}
