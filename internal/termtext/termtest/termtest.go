// Package termtest holds the hostile strings and the check that the
// tests of every printing surface share. It is for tests only, so the
// binaries carry neither the strings nor the regexp.
package termtest

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/porthole-dev/porthole/internal/termtext"
)

// Samples are hostile strings, one per class a server or a file could
// send, for the tests of every surface that prints data.
var Samples = []string{
	"osc52\x1b]52;c;ZXZpbA==\x07",
	"osc8\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
	"title\x1b]0;pwned\x07",
	"clear\x1b[2J\x1b[H",
	"sgr\x1b[31mred",
	"c1csi\u009b2J",
	"c1osc\u009d0;t\u009c",
	"nel\u0085x",
	"rlo\u202egnp.exe",
	"lri\u2066x\u2069",
	"nul\x00x",
	"bel\ax",
	"cr\rover",
	"lf\nX-Injected: 1",
	"del\x7fx",
	"bad\xff\xfeutf8",
	"rawc1\x9bx",
}

// sgr matches the colour and style sequences a TUI draws itself.
var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// Check returns an error naming the first rune of out that a terminal
// would obey, other than \n and \t; allowSGR lets colour sequences pass
// (a TUI's own styles). Tests of printing surfaces use it.
func Check(out string, allowSGR bool) error {
	if allowSGR {
		out = sgr.ReplaceAllString(out, "")
	}
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRuneInString(out[i:])
		if r == utf8.RuneError && n <= 1 {
			return fmt.Errorf("byte %#x at %d is not UTF-8 in %q", out[i], i, out)
		}
		if r != '\n' && r != '\t' && termtext.Unsafe(r) {
			return fmt.Errorf("raw %U at %d in %q", r, i, out)
		}
		i += n
	}
	return nil
}
