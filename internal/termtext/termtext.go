// Package termtext is the one sanitizer for text that reaches a terminal.
// Anything that came from a server, a file or a store (route names,
// descriptions, saved connection names, error bodies) may carry escape
// sequences that rewrite the clipboard (OSC 52), retitle the window, clear
// the screen, or reorder what the user reads (bidi overrides). Escape shows
// such characters visibly instead; Writer applies the same rule to a whole
// stream so a surface that forgets still cannot reach the terminal raw.
//
//	fmt.Fprintf(w, "%s\t%s\n", termtext.Escape(r.Name), termtext.Escape(r.From))
//	ios.Out = termtext.NewWriter(os.Stdout) // only \n and \t pass as is
package termtext

import (
	"strings"
	"unicode/utf8"
)

// Unsafe reports whether r must never reach a terminal raw: C0 controls,
// DEL, C1 controls, bidi embeddings/overrides/isolates and marks, and the
// Unicode line and paragraph separators.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c: // LRM, RLM, ALM
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Escape returns s with every unsafe rune spelt out (\x1b, \n, \u202e) and
// every byte that is not UTF-8 as \xNN: one line, nothing a terminal obeys.
func Escape(s string) string { return escape(s, false) }

// EscapeKeepLines is Escape that lets \n and \t through, for multi-line
// text (a server's error body shown under --verbose).
func EscapeKeepLines(s string) string { return escape(s, true) }

func escape(s string, keepLines bool) string {
	if isClean(s, keepLines) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	appendEscaped(&b, s, keepLines)
	return b.String()
}

func isClean(s string, keepLines bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if keepLines && (c == '\n' || c == '\t') {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n <= 1) || Unsafe(r) {
			return false
		}
		i += n
	}
	return true
}

type byteWriter interface {
	WriteString(string) (int, error)
	WriteByte(byte) error
}

const hexDigits = "0123456789abcdef"

func appendEscaped(b byteWriter, s string, keepLines bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			writeHex(b, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			_ = b.WriteByte(byte(r))
		case r == '\n':
			_, _ = b.WriteString(`\n`)
		case r == '\r':
			_, _ = b.WriteString(`\r`)
		case r == '\t':
			_, _ = b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			writeHex(b, byte(r))
		case Unsafe(r):
			_, _ = b.WriteString(`\u`)
			for shift := 12; shift >= 0; shift -= 4 {
				_ = b.WriteByte(hexDigits[(r>>shift)&0xf])
			}
		default:
			_, _ = b.WriteString(s[i : i+n])
		}
		i += n
	}
}

func writeHex(b byteWriter, c byte) {
	_, _ = b.WriteString(`\x`)
	_ = b.WriteByte(hexDigits[c>>4])
	_ = b.WriteByte(hexDigits[c&0xf])
}
