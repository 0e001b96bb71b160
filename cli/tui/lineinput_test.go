package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

func TestLineInputKeys(t *testing.T) {
	tests := []struct {
		name  string
		start string // cursor at the end
		keys  []tea.KeyMsg
		want  string
		pos   int
	}{
		{"type", "", []tea.KeyMsg{runes("db"), {Type: tea.KeySpace}, runes("x")}, "db x", 4},
		{"paste", "a", []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("b\tc\nd\x1b[2J"), Paste: true}}, "ab cd[2J", 8},
		{"backspace", "abc", []tea.KeyMsg{{Type: tea.KeyBackspace}}, "ab", 2},
		{"backspace at start", "abc", []tea.KeyMsg{{Type: tea.KeyHome}, {Type: tea.KeyBackspace}}, "abc", 0},
		{"insert mid", "ac", []tea.KeyMsg{{Type: tea.KeyLeft}, runes("b")}, "abc", 2},
		{"delete", "abc", []tea.KeyMsg{{Type: tea.KeyCtrlA}, {Type: tea.KeyDelete}}, "bc", 0},
		{"ctrl+w", "one two  ", []tea.KeyMsg{{Type: tea.KeyCtrlW}}, "one ", 4},
		{"alt+backspace", "one two", []tea.KeyMsg{{Type: tea.KeyBackspace, Alt: true}}, "one ", 4},
		{"alt+d", "one two", []tea.KeyMsg{{Type: tea.KeyHome}, {Type: tea.KeyRunes, Runes: []rune("d"), Alt: true}}, " two", 0},
		{"ctrl+u", "one two", []tea.KeyMsg{{Type: tea.KeyLeft}, {Type: tea.KeyCtrlU}}, "o", 0},
		{"ctrl+k", "one two", []tea.KeyMsg{{Type: tea.KeyCtrlA}, {Type: tea.KeyRight}, {Type: tea.KeyCtrlK}}, "o", 1},
		{"word moves", "one two", []tea.KeyMsg{{Type: tea.KeyLeft, Alt: true}, runes("X"), {Type: tea.KeyCtrlE}, runes("!")}, "one Xtwo!", 9},
		{"alt+rune types nothing", "a", []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("x"), Alt: true}}, "a", 1},
		{"right stops at end", "a", []tea.KeyMsg{{Type: tea.KeyRight}, {Type: tea.KeyRight}}, "a", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newLineInput(nil)
			in.SetValue(tt.start)
			in.CursorEnd()
			in.Focus()
			for _, k := range tt.keys {
				in, _ = in.Update(k)
			}
			if in.Value() != tt.want || in.pos != tt.pos {
				t.Errorf("value %q cursor %d, want %q cursor %d", in.Value(), in.pos, tt.want, tt.pos)
			}
		})
	}
}

func TestLineInputLimitAndBlur(t *testing.T) {
	in := newLineInput(nil)
	in.CharLimit = 3
	in.Focus()
	in, _ = in.Update(runes("abcdef"))
	if in.Value() != "abc" {
		t.Errorf("with CharLimit 3: %q", in.Value())
	}
	in.Blur()
	in, _ = in.Update(runes("z"))
	if in.Value() != "abc" {
		t.Errorf("a blurred input took a key: %q", in.Value())
	}
}

func TestLineInputView(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI)
	in := newLineInput(r)
	in.Prompt, in.Placeholder = "filter: ", "type to filter"
	if got, want := in.View(), "filter: \x1b[2mtype to filter\x1b[0m"; got != want {
		t.Errorf("blurred and empty: %q, want %q", got, want)
	}
	in.Focus()
	if got, want := in.View(), "filter: \x1b[7mt\x1b[0m\x1b[2mype to filter\x1b[0m"; got != want {
		t.Errorf("focused and empty: %q, want %q", got, want)
	}
	in.SetValue("ab")
	in.pos = 1
	if got, want := in.View(), "filter: a\x1b[7mb\x1b[0m"; got != want {
		t.Errorf("cursor on b: %q, want %q", got, want)
	}
	in.CursorEnd()
	if got, want := in.View(), "filter: ab\x1b[7m \x1b[0m"; got != want {
		t.Errorf("cursor at the end: %q, want %q", got, want)
	}
	// Nothing hostile reaches the screen, whatever is set or pasted.
	for _, s := range termtest.Samples {
		in.SetValue(s)
		in, _ = in.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
		if err := termtest.Check(in.View(), true); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}
