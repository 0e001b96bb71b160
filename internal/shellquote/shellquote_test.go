package shellquote

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

// TestRoundTrip hands each quoted word to a real sh, which must print it
// back unchanged.
func TestRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	words := []string{
		"plain", "", "a b", "it's", "'", "''", `"double"`, "$HOME", "`id`", "$(id)", "a;b", "a|b", "a&b",
		"*", "?", "[a]", "~", "#x", "!x", `back\slash`, "tcp+https://proxy.example.com/db.internal:5432",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "tab\there", "ünïcödé", "x=y", "--flag=1",
	}
	for _, w := range words {
		q, err := Quote(w)
		if err != nil {
			t.Errorf("Quote(%q): %v", w, err)
			continue
		}
		out, err := exec.Command(sh, "-c", `printf '%s' `+q).Output()
		if err != nil || string(out) != w {
			t.Errorf("sh read %s as %q (%v); want %q", q, out, err, w)
		}
	}
	line, err := Join(words...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sh, "-c", `set -- `+line+`; for w in "$@"; do printf '%s\0' "$w"; done`).Output()
	if got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"); err != nil || len(got) != len(words) || strings.Join(got, "|") != strings.Join(words, "|") {
		t.Errorf("sh read the joined line as %q (%v); want %q", got, err, words)
	}
}

// TestControlRefused: hostile strings with terminal controls are refused,
// never quoted into something a paste would run.
func TestControlRefused(t *testing.T) {
	n := 0
	for _, s := range termtest.Samples {
		if strings.IndexFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0) }) < 0 {
			continue
		}
		n++
		if q, err := Quote(s); !errors.Is(err, ErrControl) {
			t.Errorf("Quote(%q): got %q, %v; want ErrControl", s, q, err)
		}
	}
	if n == 0 {
		t.Fatal("no hostile sample with a control character")
	}
	for _, s := range []string{"a\x1b[31mb", "\r", "a\x00b", "\u202e", "\x9b"} {
		if _, err := Quote(s); !errors.Is(err, ErrControl) {
			t.Errorf("Quote(%q): got %v; want ErrControl", s, err)
		}
	}
}
