package quietlocale

import (
	"strings"
	"testing"

	"golang.org/x/text/language"
)

func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		env    map[string]string
		want   string
		wantOK bool
	}{
		{map[string]string{}, "", true},
		{map[string]string{"LANG": "C"}, "", true},
		{map[string]string{"LC_ALL": "POSIX", "LANGUAGE": "??"}, "", true},
		{map[string]string{"LANG": "en_US.UTF-8"}, "en_US.UTF-8", true},
		{map[string]string{"LANG": "C.UTF-8"}, "en", false},
		{map[string]string{"LC_ALL": "POSIX.UTF-8"}, "en", false},
		{map[string]string{"LANG": "de_DE@euro"}, "de_DE", false},
		{map[string]string{"LC_MESSAGES": "sr_RS@latin", "LANG": "C"}, "sr_RS", false},
		{map[string]string{"LANG": "en_GB.UTF-8", "LANGUAGE": "fr:C:de"}, "fr:de", false},
		{map[string]string{"LANG": "en_GB.UTF-8", "LANGUAGE": "fr:de"}, "fr:de", true},
		{map[string]string{"LANG": "x"}, "en", false},
		{map[string]string{"LANG": "es_419.UTF-8"}, "es_419.UTF-8", true},
		{map[string]string{"LANG": "\x1b[31m"}, "en", false},
	} {
		got, ok := Language(func(k string) string { return tc.env[k] })
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Language(%q): got %q, %v; want %q, %v", tc.env, got, ok, tc.want, tc.wantOK)
		}
		// What Fix would set must parse the way Fyne parses it.
		for _, l := range strings.Split(got, ":") {
			if ok || l == "" {
				continue
			}
			l, _, _ = strings.Cut(l, ".")
			if _, err := language.Parse(strings.ReplaceAll(l, "_", "-")); err != nil {
				t.Errorf("Language(%q) = %q: %q does not parse: %v", tc.env, got, l, err)
			}
		}
	}
}

func TestFixSetsOnlyWhenNeeded(t *testing.T) {
	set := map[string]string{}
	setenv := func(k, v string) error { set[k] = v; return nil }
	Fix(func(k string) string { return map[string]string{"LANG": "en_US.UTF-8"}[k] }, setenv)
	if len(set) != 0 {
		t.Errorf("a good locale: got %v set; want nothing", set)
	}
	Fix(func(k string) string { return map[string]string{"LANG": "C.UTF-8"}[k] }, setenv)
	if set["LANGUAGE"] != "en" {
		t.Errorf("C.UTF-8: got %v; want LANGUAGE=en", set)
	}
}
