package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/porthole-dev/porthole/internal/termtext"
)

// Long messages (a sign-in URL, an error with its cause) wrap to the
// screen's width below the list, up to a few lines; past that, m shows the
// whole text in a scrollable view where c copies it (OSC 52).

// signInLead starts the sign-in banner.
const signInLead = "Sign in to continue: "

// wrapText breaks s, already escaped (only \n may remain), into lines of
// at most w columns: at spaces where it can, anywhere in a long word (a
// URL), never wider.
func wrapText(s string, w int) []string {
	w = max(w, 1)
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.ReplaceAll(line, "\t", "    ")
		if line == "" {
			out = append(out, "")
			continue
		}
		for _, l := range strings.Split(ansi.Wrap(line, w, ""), "\n") {
			// Wrap measures as Truncate does; the cut is the last guard.
			out = append(out, ansi.Truncate(strings.TrimRight(l, " "), w, ""))
		}
	}
	return out
}

// capLines keeps at most n of lines; when some are left out the last kept
// line says how to see them.
func capLines(lines []string, n, w int) ([]string, bool) {
	if len(lines) <= n {
		return lines, false
	}
	n = max(n, 1)
	out := append([]string{}, lines[:n-1]...)
	return append(out, ansi.Truncate("… m shows it all, c there copies it", w, "…")), true
}

// messageText is the full text behind the bottom lines, escaped: the
// sign-in URL, then the status or error.
func (m *Model) messageText() string {
	var parts []string
	if m.signIn != "" {
		parts = append(parts, signInLead+termtext.Escape(m.signIn))
	}
	if m.status != "" {
		s := termtext.EscapeKeepLines(m.status)
		if m.statusErr {
			s = "error: " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n\n")
}

// copyableMessage is what c copies in the message view: the sign-in URL
// alone when there is one (that is what a browser needs), else the status.
// Escaped, on one line: a pasted newline would run a shell command.
func (m *Model) copyableMessage() string {
	if m.signIn != "" {
		return termtext.Escape(m.signIn)
	}
	return termtext.Escape(m.status)
}

// bottomLines are the sign-in banner and the status, wrapped to the width
// and capped so the list keeps most of the screen; more says some text is
// only in the message view.
func (m *Model) bottomLines(st styles) (lines []string, more bool) {
	w := max(m.width, 1)
	if m.signIn != "" {
		l, cut := capLines(wrapText(signInLead+termtext.Escape(m.signIn), w), max(3, m.height/3), w)
		lines, more = append(lines, l...), cut
	}
	if m.status != "" {
		text := termtext.EscapeKeepLines(m.status)
		if m.statusErr {
			text = "error: " + text
		}
		l, cut := capLines(wrapText(text, w), max(2, m.height/4), w)
		if m.statusErr {
			for i := range l {
				l[i] = st.err.Render(l[i])
			}
		}
		lines, more = append(lines, l...), more || cut
	}
	return lines, more
}

// messageKeys are the message view's keys.
type messageKeys struct{ Copy, Back, Up, Down key.Binding }

func newMessageKeys() messageKeys {
	return messageKeys{
		Copy: key.NewBinding(key.WithKeys("c", "ctrl+y"), key.WithHelp("c", "copy")),
		Back: key.NewBinding(key.WithKeys("esc", "q", "m"), key.WithHelp("esc", "back")),
		Up:   key.NewBinding(key.WithKeys("up", "k", "pgup"), key.WithHelp("↑/pgup", "scroll")),
		Down: key.NewBinding(key.WithKeys("down", "j", "pgdown"), key.WithHelp("↓/pgdn", "scroll")),
	}
}

func (k messageKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Copy, k.Up, k.Down, k.Back} }
func (k messageKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// openMessage shows the full message text in a scrollable view.
func (m *Model) openMessage() {
	if m.signIn == "" && m.status == "" {
		return
	}
	m.back = m.screen
	m.screen = screenMessage
	m.sizeMessage()
}

// sizeMessage fits the view to the screen (title, heading and help around it).
func (m *Model) sizeMessage() {
	w, h := max(m.width, 1), max(m.height-4, 1)
	if m.msgView.Width != w || m.msgView.Height != h {
		m.msgView = viewport.New(w, h)
	}
	m.msgView.SetContent(strings.Join(wrapText(m.messageText(), w), "\n"))
}

func (m *Model) updateMessage(msg tea.KeyMsg) tea.Cmd {
	switch {
	case msg.Type == tea.KeyCtrlC:
		return tea.Quit
	case key.Matches(msg, m.mkeys.Back):
		m.screen = m.back
		return nil
	case key.Matches(msg, m.mkeys.Copy):
		text := m.copyableMessage()
		if err := m.clipboard(text); err != nil {
			m.setError("copying: " + err.Error())
		} else {
			m.copyNote = "copied " + plural(len([]rune(text)), "character") + " to the clipboard"
		}
		m.sizeMessage()
		return nil
	}
	var cmd tea.Cmd
	m.msgView, cmd = m.msgView.Update(msg)
	return cmd
}

func (m *Model) viewMessage(st styles) []string {
	head := "Message in full (c copies the sign-in URL or the message)"
	if m.copyNote != "" {
		head = st.ok.Render(m.copyNote)
	}
	return append([]string{head}, strings.Split(m.msgView.View(), "\n")...)
}
