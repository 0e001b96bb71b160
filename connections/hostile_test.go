package connections

import (
	"errors"
	"testing"
)

// Saved connections (from the CLI, the desktop app, imports or a store
// edited by hand) go through the tunnel's one destination validator.
func TestNormalizeRefusesHostileDestinations(t *testing.T) {
	for _, dest := range []string{
		"[a\r\nX-Injected:1\r\n]:7000", "db\r\nX: 1:5432", "db\x00:1", "db x:1", "db\x1b[2J:1", "db\u0085:1",
		"db\u202e:1", "db:0", "db:65536", "db:+1", "::1:22", "[zz]:1", "db%0a:1", "tcp+https://p/db\n:1",
	} {
		_, err := Normalize(Connection{Name: "n", Destination: dest})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != FieldDestination {
			t.Errorf("Normalize(destination %q) = %v; want a destination FieldError", dest, err)
		}
	}
	for _, listen := range []string{"127.0.0.1:5432\r\nx", "a b:1", "127.0.0.1:99999"} {
		if _, err := Normalize(Connection{Name: "n", Destination: "db:1", ListenAddr: listen}); err == nil {
			t.Errorf("Normalize(listen %q) = nil error", listen)
		}
	}
}
