package termtext

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is one payload per class a portal or a file could try.
var hostile = []struct{ name, in, want string }{
	{"osc52 clipboard", "a\x1b]52;c;ZXZpbA==\x07b", `a\x1b]52;c;ZXZpbA==\x07b`},
	{"osc8 link", "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", `\x1b]8;;https://evil.example\x1b\click\x1b]8;;\x1b\`},
	{"osc0 title", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
	{"csi clear", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
	{"csi colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
	{"c1 csi", "x\u009b2Jy", `x\u009b2Jy`},
	{"c1 osc", "\u009d0;t\u009c", `\u009d0;t\u009c`},
	{"c1 nel", "a\u0085b", `a\u0085b`},
	{"c1 first and last", "\u0080\u009f", `\u0080\u009f`},
	{"raw c1 byte (not utf-8)", "a\x9bb", `a\x9bb`},
	{"rlo", "abc\u202egnp.exe", `abc\u202egnp.exe`},
	{"lre", "\u202a", `\u202a`},
	{"pdf", "\u202c", `\u202c`},
	{"lri..pdi", "\u2066x\u2069", `\u2066x\u2069`},
	{"fsi", "\u2068", `\u2068`},
	{"rlm", "\u200f", `\u200f`},
	{"line separator", "a\u2028b", `a\u2028b`},
	{"nul", "a\x00b", `a\x00b`},
	{"bel", "\a", `\x07`},
	{"backspace overwrite", "safe\b\b\b\bevil", `safe\x08\x08\x08\x08evil`},
	{"cr overwrite", "good\revil", `good\revil`},
	{"lf", "one\ntwo", `one\ntwo`},
	{"crlf header", "a\r\nX-Injected: 1", `a\r\nX-Injected: 1`},
	{"tab", "a\tb", `a\tb`},
	{"del", "a\x7fb", `a\x7fb`},
	{"esc alone", "\x1b", `\x1b`},
	{"invalid utf-8", "\xff\xfe", `\xff\xfe`},
	{"truncated rune", "a\xe2\x80", `a\xe2\x80`},
	{"dcs", "\x1bP+q\x1b\\", `\x1bP+q\x1b\`},
	{"plain ascii", "db.internal:5432", "db.internal:5432"},
	{"unicode letters", "Zürich – 東京 🚀", "Zürich – 東京 🚀"},
	{"zwj emoji", "👩\u200d💻", "👩\u200d💻"},
	{"empty", "", ""},
}

func TestEscape(t *testing.T) {
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Fatalf("Escape(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEscapeKeepLines(t *testing.T) {
	got := EscapeKeepLines("line one\n\tline\x1b[2J two\r\n")
	want := "line one\n\tline\\x1b[2J two\\r\n"
	if got != want {
		t.Fatalf("EscapeKeepLines = %q; want %q", got, want)
	}
}

func TestWriterEscapesAndSplitsRunes(t *testing.T) {
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			// Byte by byte: a rune split across writes must come out whole.
			var out bytes.Buffer
			w := NewWriter(&out)
			in := tc.in + "\n"
			for i := 0; i < len(in); i++ {
				if n, err := w.Write([]byte{in[i]}); n != 1 || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			want := EscapeKeepLines(in)
			if out.String() != want {
				t.Fatalf("byte-wise Writer gave %q; want %q", out.String(), want)
			}
		})
	}
}

func assertSafe(t *testing.T, out string, keepLines bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("output is not UTF-8: %q", out)
	}
	for _, r := range out {
		if keepLines && (r == '\n' || r == '\t') {
			continue
		}
		if Unsafe(r) {
			t.Fatalf("output %q carries unsafe rune %U", out, r)
		}
	}
}

func FuzzEscape(f *testing.F) {
	for _, tc := range hostile {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		assertSafe(t, e, false)
		if strings.ContainsAny(e, "\n\r") {
			t.Fatalf("Escape kept a line break: %q", e)
		}
		if isClean(s, false) && e != s {
			t.Fatalf("clean input changed: %q -> %q", s, e)
		}
		assertSafe(t, EscapeKeepLines(s), true)
		var out bytes.Buffer
		w := NewWriter(&out)
		half := len(s) / 2
		_, _ = w.Write([]byte(s[:half]))
		_, _ = w.Write([]byte(s[half:] + "\n"))
		assertSafe(t, out.String(), true)
	})
}
