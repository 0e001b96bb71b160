package shorten

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMiddle(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 7, "abc…jkl"},
		{"abcdefghijkl", 8, "abc…ijkl"},
		{"abcdefghijkl", 4, "abcdefghijkl"}, // too small to cut usefully
		{"ééééééééééé", 5, "éé…éé"},         // runes, not bytes
	} {
		if got := Middle(tc.in, tc.max); got != tc.want {
			t.Errorf("Middle(%q, %d): got %q; want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestDestination(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "tcp+https://p.example.com/db:5432", 44, "tcp+https://p.example.com/db:5432"},
		{"keeps the route whole", "tcp+https://proxy.example.com/db.internal:5432", 32, "tcp+https://pr…/db.internal:5432"},
		{"long route keeps its port", "tcp+https://proxy.example.com/a-really-long-postgres-primary.db.internal:5432", 30, "a-really-long-…b.internal:5432"}, // the route's name start over the proxy's
		{"host form", "a-really-long-postgres-primary.db.internal.example.com:5432", 30, "a-really-long-…xample.com:5432"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Destination(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
			if n := utf8.RuneCountInString(got); n > tc.max {
				t.Errorf("got %d runes; want at most %d", n, tc.max)
			}
			if !strings.HasSuffix(got, ":5432") {
				t.Errorf("got %q; want the port kept", got)
			}
		})
	}
}

func TestDestinationVariants(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"tcp+https://db.example.com:5432", 24, "tcp+…db.example.com:5432"},
		{"db.example.com:5432", 12, "db.ex…m:5432"},
		{"https://grafana.example.com/d/abc", 30, "https://grafana.example.com/d…"},
		{"udp+https://proxy.example.com/dns.internal:53/", 30, "udp+https://…/dns.internal:53/"},
		{"tcp+https://プロキシ/データベース:5432", 16, "tcp…/データベース:5432"},
		{"tcp+https://p/x:1", 0, ""},
	} {
		got := Destination(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("Destination(%q, %d) = %q; want %q", tc.in, tc.max, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > tc.max {
			t.Errorf("Destination(%q, %d) = %q: %d runes", tc.in, tc.max, got, n)
		}
	}
}
