package shorten

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDestination: never longer than asked, and a tunnel destination
// (tcp+/udp+ or bare host:port) ending in a port keeps it whenever there
// is room for an ellipsis and the port. (An http URL's path is cut at the
// end instead: its host is what is kept.)
func FuzzDestination(f *testing.F) {
	f.Add("tcp+https://proxy.example.com/db.internal:5432", 20)
	f.Add("db.example.com:5432", 7)
	f.Add("tcp+https://a@b/c/:5432", 6)
	f.Add("\x1b]52;c;x\a:5432", 6)
	f.Fuzz(func(t *testing.T, s string, w int) {
		w %= 200
		got := Destination(s, w)
		if n := utf8.RuneCountInString(got); n > max(w, 0) {
			t.Fatalf("Destination(%q, %d) = %q: %d runes", s, w, got, n)
		}
		tunnelForm := isTunnelScheme(s) || !strings.Contains(s, "://")
		if tunnelForm && utf8.ValidString(s) && strings.HasSuffix(s, ":5432") && w >= 6 && !strings.HasSuffix(got, ":5432") {
			t.Fatalf("Destination(%q, %d) = %q lost the port", s, w, got)
		}
	})
}
