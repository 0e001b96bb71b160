package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

func TestShortenFrom(t *testing.T) {
	const long = "tcp+https://proxy.example.com/db.internal:5432"
	tests := []struct {
		from string
		w    int
		want string
	}{
		{long, 80, long},
		{long, len(long), long},
		{long, 40, "tcp+https://proxy.exam…/db.internal:5432"},
		{long, 18, "…/db.internal:5432"},
		{long, 17, "…db.internal:5432"},
		{long, 10, "db.i…:5432"}, // the destination alone, cut in its middle, port kept
		{long, 1, "…"},
		{long, 0, ""},
		// host form: the authority is the destination
		{"tcp+https://db.example.com:5432", 24, "tcp+…db.example.com:5432"},
		{"tcp+https://db.example.com:5432", 20, "…db.example.com:5432"},
		// what follows the destination is cut at the end
		{"https://grafana.example.com/d/abc/overview?x=1", 30, "https://grafana.example.com/d…"},
		{"https://grafana.example.com/d/abc/overview?x=1", 24, "htt…grafana.example.com…"},
		{"udp+https://proxy.example.com/dns.internal:53/", 30, "udp+https://…/dns.internal:53/"},
		{"tcp+https://user@proxy.example.com:8443/db:5432", 20, "tcp+https:/…/db:5432"},
		// no scheme, no destination: cut at the end
		{"just some text that is long", 10, "just… long"}, // no scheme: all of it is the destination
		{"no-scheme/db:5432", 10, "n…/db:5432"},
		{"", 5, ""},
		// wide runes: never wider than w, a wide rune is not split
		{"tcp+https://プロキシ.example/データベース:5432", 30, "tcp+https:/…/データベース:5432"},
		{"tcp+https://プロキシ.example/データベース:5432", 20, "t…/データベース:5432"},
		{"tcp+https://プロキシ.example/データベース:5432", 19, "…/データベース:5432"},
		{"tcp+https://プロキシ.example/データベース:5432", 12, "データ…:5432"},
		{"tcp+https://プロキシ.example/データベース:5432", 11, "デー…:5432"}, // a wide rune is not split
		{"tcp+https://p/🏳️‍🌈.example:1", 26, "tcp+https://p/🏳️‍🌈.example:1"},
		{"tcp+https://p/🏳️‍🌈.example:1", 20, "tcp+ht…/🏳️‍🌈.example:1"},
		// hostile: escaped first, then measured and cut
		{"tcp+https://p\x1b]52;c;x\x07/db:5432", 40, `tcp+https://p\x1b]52;c;x\x07/db:5432`},
		{"tcp+https://p\x1b]52;c;x\x07/db:5432", 16, `tcp+htt…/db:5432`},
		{"tcp+https://p/db\u202e:5432", 40, `tcp+https://p/db\u202e:5432`},
		{"tcp+https://p/d\nb:1", 13, `tcp+h…/d\nb:1`},
	}
	for _, tt := range tests {
		got := ShortenFrom(tt.from, tt.w)
		if got != tt.want {
			t.Errorf("ShortenFrom(%q, %d) = %q; want %q", tt.from, tt.w, got, tt.want)
		}
		if w := ansi.StringWidth(got); w > max(tt.w, 0) {
			t.Errorf("ShortenFrom(%q, %d) = %q is %d columns wide", tt.from, tt.w, got, w)
		}
		if err := termtest.Check(got, false); err != nil {
			t.Errorf("ShortenFrom(%q, %d): %v", tt.from, tt.w, err)
		}
	}
}

// Every hostile sample at every width: escaped, never wider, and the
// port (the destination's end) kept whenever there is room for it.
func TestShortenFromHostile(t *testing.T) {
	for _, s := range append(termtest.Samples, strings.Repeat("界", 300), strings.Repeat("x", 5000)+"\xff", "e\u0301\u0301\u0301") {
		for _, from := range []string{s, "tcp+https://" + s + "/db.internal:5432", "tcp+https://proxy/" + s + ":5432", "tcp+https://" + s + ":5432"} {
			for w := 0; w <= 70; w++ {
				got := ShortenFrom(from, w)
				if gw := ansi.StringWidth(got); gw > w {
					t.Fatalf("ShortenFrom(%q, %d) = %q: %d columns", from, w, got, gw)
				}
				if err := termtest.Check(got, false); err != nil {
					t.Fatalf("ShortenFrom(%q, %d): %v", from, w, err)
				}
				if strings.HasSuffix(from, ":5432") && w >= 6 && !strings.HasSuffix(got, ":5432") {
					t.Fatalf("ShortenFrom(%q, %d) = %q lost the port", from, w, got)
				}
			}
		}
	}
}

func TestClip(t *testing.T) {
	big := "tcp+https://p/" + strings.Repeat("a", 10000) + "/db:5432"
	c := clip(big)
	if len(c) > maxField+len(ellipsis) || !strings.HasSuffix(c, "/db:5432") || !strings.HasPrefix(c, "tcp+https://p/") {
		t.Errorf("clip: %d bytes, ends %q; want <= %d keeping head and tail", len(c), c[len(c)-10:], maxField)
	}
}

func TestRenderCellsHighlights(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI256)
	hit := r.NewStyle().Underline(true)
	out := renderCells(toCells("db-primary\x1b", []int{0, 1, 10}), lipgloss.Style{}, hit)
	// d and b underlined, "-primary" plain, the escape spelt out and underlined
	if got, want := underlined(out), "db\\x1b"; got != want {
		t.Errorf("underlined in %q: %q; want %q", out, got, want)
	}
	if got, want := ansi.Strip(out), "db-primary\\x1b"; got != want {
		t.Errorf("text of %q: %q; want %q", out, got, want)
	}
	if err := termtest.Check(out, true); err != nil {
		t.Error(err)
	}
}

// underlined is the text drawn with the underline attribute in out.
func underlined(out string) string {
	var b strings.Builder
	on := false
	for len(out) > 0 {
		seq, w, n, _ := ansi.DecodeSequence(out, ansi.NormalState, nil)
		if w == 0 && strings.HasPrefix(seq, "\x1b[") && strings.HasSuffix(seq, "m") {
			params := strings.Split(seq[2:len(seq)-1], ";")
			for _, p := range params {
				switch p {
				case "4":
					on = true
				case "0", "", "24":
					on = false
				}
			}
		} else if on {
			b.WriteString(seq)
		}
		out = out[n:]
	}
	return b.String()
}
