// Package quietlocale keeps Fyne from logging "Fyne error: Error parsing
// user locale C" under a locale with no language (C.UTF-8, POSIX.UTF-8,
// odd values). Fyne reads the locale in a package init, so this must run
// before it: import it blank from main. It imports only os and strings so
// that Go's init order (dependencies first, then by import path) runs it
// before Fyne's lang package, whose dependencies come later.
package quietlocale

import (
	"os"
	"strings"
)

func init() { Fix(os.Getenv, os.Setenv) }

// Fix rewrites LANGUAGE when a locale that Fyne (via go-locale) would
// read does not parse as a BCP 47 tag: to the entries that do, cleaned
// (de_DE@euro -> de_DE), or "en". gettext ignores LANGUAGE under the C
// locale, so programs started from the app (the browser) see no change.
func Fix(getenv func(string) string, setenv func(k, v string) error) {
	if v, ok := Language(getenv); !ok {
		_ = setenv("LANGUAGE", v)
	}
}

// Language returns the LANGUAGE value to use, and true when the current
// environment already parses (or names no locale: plain C or POSIX).
func Language(getenv func(string) string) (string, bool) {
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = getenv(k); loc != "" {
			break
		}
	}
	if loc == "" || loc == "C" || loc == "POSIX" {
		return "", true
	}
	if l := getenv("LANGUAGE"); l != "" {
		loc = l
	}
	ok := true
	var clean []string
	for _, l := range strings.Split(loc, ":") {
		c, valid := cleanLocale(l)
		ok = ok && valid
		if c != "" {
			clean = append(clean, c)
		}
	}
	if ok {
		return loc, true
	}
	if len(clean) == 0 {
		return "en", false
	}
	return strings.Join(clean, ":"), false
}

// cleanLocale splits l as go-locale does (drop ".encoding", "-" = "_",
// language "_" territory) and reports whether the result is a tag BCP 47
// accepts; c is the usable part ("" if none).
func cleanLocale(l string) (c string, valid bool) {
	l, _, _ = strings.Cut(l, ".")
	l = strings.ReplaceAll(l, "-", "_")
	lang, terr, _ := strings.Cut(l, "_")
	if !letters(lang, 2, 3) {
		return "", false
	}
	if terr == "" {
		return lang, true
	}
	if letters(terr, 2, 2) || digits(terr, 3) {
		return lang + "_" + terr, true
	}
	terr, _, _ = strings.Cut(terr, "@")
	if letters(terr, 2, 2) || digits(terr, 3) {
		return lang + "_" + terr, false
	}
	return lang, false
}

func letters(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
