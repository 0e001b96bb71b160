// Package shellquote writes command lines that a POSIX shell (sh, bash,
// zsh) reads back as the same words: the commands the desktop app and
// the CLI's screens offer to copy.
//
//	line, err := shellquote.Join("pomerium-cli", "tcp", dest, "--alternate-ca-path", caFile)
package shellquote

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrControl is returned for a word holding a control character other
// than newline or tab (or bytes that are not UTF-8): pasted into a terminal it could act on it rather
// than reach the command.
var ErrControl = errors.New("holds a control character")

// safe are the bytes that never need quoting.
func safe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r)
}

// Quote returns s as one shell word: as it is when every byte is safe,
// else in single quotes (a quote inside becomes '\”).
func Quote(s string) (string, error) {
	if !utf8.ValidString(s) { // a lone 0x9b byte is CSI to some terminals
		return "", fmt.Errorf("%q is not UTF-8 and %w", s, ErrControl)
	}
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029' || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' {
			return "", fmt.Errorf("%q %w", s, ErrControl)
		}
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s, nil
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// Join quotes each word and joins them with spaces.
func Join(words ...string) (string, error) {
	out := make([]string, len(words))
	for i, w := range words {
		q, err := Quote(w)
		if err != nil {
			return "", err
		}
		out[i] = q
	}
	return strings.Join(out, " "), nil
}
