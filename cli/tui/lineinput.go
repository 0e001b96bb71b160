package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/porthole-dev/porthole/internal/termtext"
)

// lineInput is the one-line editor of the filter and the listen-address
// prompt. bubbles' textinput did this before; it links atotto/clipboard,
// whose init looks for xclip, xsel and wl-copy on every start of the CLI
// (52 failed stat calls, about a tenth of `--help`), for a ctrl+v paste
// that a terminal's own paste (bracketed, delivered as typed runes) does
// without. The keys are textinput's.
type lineInput struct {
	Prompt      string
	Placeholder string
	CharLimit   int // runes; 0: no limit

	value   []rune
	pos     int // the cursor, an index into value
	focused bool

	placeholder lipgloss.Style
	cursor      lipgloss.Style
}

func newLineInput(r *lipgloss.Renderer) lineInput {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	return lineInput{placeholder: r.NewStyle().Faint(true), cursor: r.NewStyle().Reverse(true)}
}

func (in *lineInput) Value() string { return string(in.value) }

// SetValue replaces the text (runes a terminal would obey are dropped)
// and keeps the cursor within it.
func (in *lineInput) SetValue(s string) {
	in.value = in.value[:0]
	in.insertAt(0, []rune(s))
	in.pos = min(in.pos, len(in.value))
}

func (in *lineInput) CursorEnd() { in.pos = len(in.value) }

// Focus shows the cursor and takes keys. It returns no command: the
// cursor does not blink.
func (in *lineInput) Focus() tea.Cmd {
	in.focused = true
	return nil
}

func (in *lineInput) Blur() { in.focused = false }

// insertAt inserts rs at i, without what a terminal would obey (a pasted
// escape sequence, a line break), within CharLimit; it returns how many
// runes went in.
func (in *lineInput) insertAt(i int, rs []rune) int {
	clean := make([]rune, 0, len(rs))
	for _, r := range rs {
		switch {
		case r == '\t':
			r = ' '
		case termtext.Unsafe(r) || r == utf8.RuneError: // Unsafe takes in every control rune
			continue
		}
		clean = append(clean, r)
	}
	if in.CharLimit > 0 {
		clean = clean[:min(len(clean), max(in.CharLimit-len(in.value), 0))]
	}
	in.value = append(in.value[:i], append(clean, in.value[i:]...)...)
	return len(clean)
}

// Update edits the text on a key, while focused.
func (in lineInput) Update(msg tea.Msg) (lineInput, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || !in.focused {
		return in, nil
	}
	switch k.String() {
	case "left", "ctrl+b":
		in.pos = max(in.pos-1, 0)
	case "right", "ctrl+f":
		in.pos = min(in.pos+1, len(in.value))
	case "alt+left", "ctrl+left", "alt+b":
		in.pos = in.wordStart()
	case "alt+right", "ctrl+right", "alt+f":
		in.pos = in.wordEnd()
	case "home", "ctrl+a":
		in.pos = 0
	case "end", "ctrl+e":
		in.pos = len(in.value)
	case "backspace", "ctrl+h":
		if in.pos > 0 {
			in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
			in.pos--
		}
	case "delete", "ctrl+d":
		if in.pos < len(in.value) {
			in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
		}
	case "alt+backspace", "ctrl+w":
		start := in.wordStart()
		in.value = append(in.value[:start], in.value[in.pos:]...)
		in.pos = start
	case "alt+delete", "alt+d":
		end := in.wordEnd()
		in.value = append(in.value[:in.pos], in.value[end:]...)
	case "ctrl+u":
		in.value = append(in.value[:0], in.value[in.pos:]...)
		in.pos = 0
	case "ctrl+k":
		in.value = in.value[:in.pos]
	default:
		if (k.Type == tea.KeyRunes || k.Type == tea.KeySpace) && !k.Alt {
			rs := k.Runes
			if k.Type == tea.KeySpace {
				rs = []rune{' '}
			}
			in.pos += in.insertAt(in.pos, rs)
		}
	}
	return in, nil
}

// wordStart is where the word before the cursor starts (spaces before it
// skipped), wordEnd where the word after it ends.
func (in *lineInput) wordStart() int {
	i := in.pos
	for i > 0 && unicode.IsSpace(in.value[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(in.value[i-1]) {
		i--
	}
	return i
}

func (in *lineInput) wordEnd() int {
	i := in.pos
	for i < len(in.value) && unicode.IsSpace(in.value[i]) {
		i++
	}
	for i < len(in.value) && !unicode.IsSpace(in.value[i]) {
		i++
	}
	return i
}

// View is the prompt and the text, the cursor a reversed cell while
// focused; the placeholder, faint, while the text is empty.
func (in lineInput) View() string {
	var b strings.Builder
	b.WriteString(in.Prompt)
	if len(in.value) == 0 && in.Placeholder != "" {
		ph := []rune(in.Placeholder)
		if in.focused {
			b.WriteString(in.cursor.Render(string(ph[:1])))
			ph = ph[1:]
		}
		b.WriteString(in.placeholder.Render(string(ph)))
		return b.String()
	}
	b.WriteString(string(in.value[:in.pos]))
	if !in.focused {
		b.WriteString(string(in.value[in.pos:]))
		return b.String()
	}
	under, rest := " ", ""
	if in.pos < len(in.value) {
		under, rest = string(in.value[in.pos]), string(in.value[in.pos+1:])
	}
	b.WriteString(in.cursor.Render(under))
	b.WriteString(rest)
	return b.String()
}
