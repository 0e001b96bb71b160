package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// Styles degrade on their own: lipgloss drops colours the terminal lacks
// (none at all for TERM=dumb or when not a terminal).
var (
	titleStyle    = lipgloss.NewStyle().Bold(true)
	tabActive     = lipgloss.NewStyle().Bold(true).Underline(true)
	tabInactive   = lipgloss.NewStyle().Faint(true)
	selectedStyle = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B9A5FF"})
	dimStyle      = lipgloss.NewStyle().Faint(true)
	errStyle      = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("9"))
	okStyle       = lipgloss.NewStyle().Foreground(lipgloss.Color("10"))
)

// View renders the current screen to fit width x height.
func (m *Model) View() string {
	var top []string
	title := "pomerium-cli routes pick"
	if m.opts.Server != "" {
		title += " · " + esc(m.opts.Server)
	}
	top = append(top, titleStyle.Render(title))

	var body []string
	switch m.screen {
	case screenPrompt:
		body = m.viewPrompt()
	case screenPanel:
		body = m.viewPanel()
	default:
		body = m.viewList()
	}

	var bottom []string
	if m.signIn != "" {
		bottom = append(bottom, "Sign in to continue: "+esc(m.signIn))
	}
	if m.status != "" {
		if m.statusErr {
			bottom = append(bottom, errStyle.Render("error: "+esc(m.status)))
		} else {
			bottom = append(bottom, esc(m.status))
		}
	}
	bottom = append(bottom, strings.Split(m.helpView(), "\n")...)

	room := m.height - len(top) - len(bottom)
	if room < 1 {
		room = 1
	}
	if len(body) > room {
		body = body[:room]
	}
	for len(body) < room {
		body = append(body, "")
	}
	lines := append(append(top, body...), bottom...)
	if len(lines) > m.height && m.height > 0 {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		// A long sign-in URL wraps rather than being cut: it must be usable.
		if strings.HasPrefix(l, "Sign in to continue: ") {
			continue
		}
		lines[i] = ansi.Truncate(l, m.width, "…")
	}
	return strings.Join(lines, "\n")
}

func (m *Model) helpView() string {
	switch m.screen {
	case screenPrompt:
		return m.help.View(m.pkeys)
	case screenPanel:
		if m.panel != nil {
			return m.help.View(m.panel.keys)
		}
	}
	return m.help.View(m.lkeys)
}

func (m *Model) viewList() []string {
	var out []string
	rt, sv := "Routes", "Saved"
	if m.tab == tabRoutes {
		out = append(out, tabActive.Render(rt)+"  "+tabInactive.Render(sv))
	} else {
		out = append(out, tabInactive.Render(rt)+"  "+tabActive.Render(sv))
	}
	noun := "routes"
	if m.tab == tabSaved {
		noun = "saved connections"
	}
	count := fmt.Sprintf("%d of %d %s", len(m.visible), len(m.items()), noun)
	if m.loading && m.tab == tabRoutes {
		count = "loading routes…"
	}
	if m.filtering || m.filter.Value() != "" {
		out = append(out, m.filter.View()+"  "+dimStyle.Render(count))
	} else {
		out = append(out, dimStyle.Render(count))
	}
	nameW, typeW := 18, 5
	fromW := (m.width - nameW - typeW - 8) / 2
	if fromW < 10 {
		fromW = 10
	}
	out = append(out, dimStyle.Render(fmt.Sprintf("  %-*s %-*s %-*s %s", nameW, "NAME", typeW, "TYPE", fromW, "FROM", "DESCRIPTION")))
	rows := m.height - 4 - len(out) - 2
	if rows < 1 {
		rows = 1
	}
	start := 0
	if m.cursor >= rows {
		start = m.cursor - rows + 1
	}
	for i := start; i < len(m.visible) && i < start+rows; i++ {
		it := m.visible[i]
		line := fmt.Sprintf("%-*s %-*s %-*s %s", nameW, ansi.Truncate(esc(it.Name), nameW, "…"), typeW, esc(it.Type),
			fromW, ansi.Truncate(esc(it.From), fromW, "…"), esc(it.Description))
		if i == m.cursor {
			out = append(out, selectedStyle.Render("> "+line))
		} else {
			out = append(out, "  "+line)
		}
	}
	if len(m.visible) == 0 && !m.loading {
		out = append(out, dimStyle.Render("  nothing matches"))
	}
	return out
}

func (m *Model) viewPrompt() []string {
	it := m.promptItem
	return []string{
		"",
		"Open a tunnel to " + titleStyle.Render(esc(it.Name)) + " (" + esc(it.From) + ")",
		"",
		m.prompt.View(),
		"",
		dimStyle.Render("127.0.0.1:0 picks a free port"),
	}
}

func (m *Model) viewPanel() []string {
	p := m.panel
	if p == nil {
		return nil
	}
	state := p.state
	switch state {
	case "listening":
		state = okStyle.Render(state)
	case "failed":
		state = errStyle.Render(state)
	}
	out := []string{
		"",
		"Tunnel  " + titleStyle.Render(esc(p.item.Name)) + "  " + esc(p.item.From),
		"Local address:  " + esc(p.addr),
		"State:          " + state,
		fmt.Sprintf("Connections:    %d active, %d total", p.stats.Active, p.stats.Total),
		fmt.Sprintf("Bytes:          %s sent, %s received", cmdutil.Bytes(p.stats.BytesSent), cmdutil.Bytes(p.stats.BytesReceived)),
		"",
		dimStyle.Render("Recent events"),
	}
	n := m.height - 6 - len(out)
	if n < 1 {
		n = 1
	}
	ev := p.events
	if len(ev) > n {
		ev = ev[len(ev)-n:]
	}
	for _, e := range ev {
		out = append(out, "  "+esc(e.String()))
	}
	return out
}

// esc is the one way data reaches the screen: route and connection fields,
// notices, errors and events come from a server, a file or the network,
// and only the styles above may put escapes around them.
func esc(s string) string { return termtext.Escape(s) }
