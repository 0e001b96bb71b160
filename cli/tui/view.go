package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// styles are the picker's colours, from the renderer of its terminal:
// lipgloss drops what the terminal lacks (everything for TERM=dumb).
type styles struct {
	title, tabActive, tabInactive, selected, dim, err, ok, hit lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	return styles{
		title:       r.NewStyle().Bold(true),
		tabActive:   r.NewStyle().Bold(true).Underline(true),
		tabInactive: r.NewStyle().Faint(true),
		selected:    r.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B9A5FF"}),
		dim:         r.NewStyle().Faint(true),
		err:         r.NewStyle().Bold(true).Foreground(lipgloss.Color("9")),
		ok:          r.NewStyle().Foreground(lipgloss.Color("10")),
		// Matched characters: underlined as well as coloured, so they show
		// without colours too.
		hit: r.NewStyle().Underline(true).Foreground(lipgloss.AdaptiveColor{Light: "#B35C00", Dark: "#FFB86C"}),
	}
}

// View renders the current screen to fit width x height. No line is wider
// than the screen: a row that wrapped would push the list off it.
func (m *Model) View() string {
	st := m.st
	title := "pomerium-cli routes pick"
	if m.opts.Server != "" {
		title += " · " + esc(m.opts.Server)
	}
	top := []string{st.title.Render(title)}

	var body, bottom []string
	if m.screen == screenMessage {
		body = m.viewMessage(st)
	} else {
		bottom, _ = m.bottomLines(st)
		switch m.screen {
		case screenPrompt:
			body = m.viewPrompt(st)
		case screenPanel:
			body = m.viewPanel(st)
		default:
			room := m.height - len(top) - len(bottom) - m.helpHeight()
			body = m.viewList(st, room)
		}
	}
	bottom = append(bottom, strings.Split(m.helpView(), "\n")...)

	room := max(m.height-len(top)-len(bottom), 1)
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
		lines[i] = ansi.Truncate(l, m.width, "…")
	}
	return strings.Join(lines, "\n")
}

func (m *Model) helpHeight() int { return strings.Count(m.helpView(), "\n") + 1 }

func (m *Model) helpView() string {
	switch m.screen {
	case screenPrompt:
		return m.help.View(m.pkeys)
	case screenMessage:
		return m.help.View(m.mkeys)
	case screenPanel:
		if m.panel != nil {
			k := m.panel.keys
			k.Message.SetEnabled(m.signIn != "" || m.status != "")
			return m.help.View(k)
		}
	}
	k := m.lkeys
	k.Message.SetEnabled(m.signIn != "" || m.status != "")
	return m.help.View(k)
}

// columns are the current tab's columns sized to the screen, measured
// again only when the width or the tab's rows change (not per keystroke).
func (m *Model) columns() []placed {
	cols := routeColumns
	if m.tab == tabSaved {
		cols = savedColumns
	}
	items := m.items()
	key := layoutKey{tab: m.tab, width: m.width, n: len(items), runs: m.runsGen}
	if len(items) > 0 {
		key.first = &items[0]
	}
	if m.layoutKey != key || m.layout == nil {
		m.layoutKey, m.layout = key, layout(cols, max(m.width-2, 1), items)
	}
	return m.layout
}

// layoutKey identifies the rows and width a layout was made for: a new
// fetch is a new slice.
type layoutKey struct {
	tab   tab
	width int
	n     int
	first *Item
	runs  int // Model.runsGen: a status was set
}

// viewList draws the tabs, the filter and as many rows as room allows,
// scrolled to keep the cursor in view.
func (m *Model) viewList(st styles, room int) []string {
	var out []string
	rt, sv := "Routes", "Saved"
	if m.tab == tabRoutes {
		out = append(out, st.tabActive.Render(rt)+"  "+st.tabInactive.Render(sv))
	} else {
		out = append(out, st.tabInactive.Render(rt)+"  "+st.tabActive.Render(sv))
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
		out = append(out, m.filter.View()+"  "+st.dim.Render(count))
	} else {
		out = append(out, st.dim.Render(count))
	}
	ps := m.columns()
	out = append(out, st.dim.Render("  "+header(ps)))
	rows := max(room-len(out), 1)
	start := 0
	if m.cursor >= rows {
		start = m.cursor - rows + 1
	}
	for i := start; i < len(m.visible) && i < start+rows; i++ {
		var mt *match
		if i < len(m.marks) {
			mt = &m.marks[i]
		}
		if i == m.cursor {
			out = append(out, st.selected.Render("> ")+row(ps, m.visible[i], mt, st.selected, st.hit))
		} else {
			out = append(out, "  "+row(ps, m.visible[i], mt, lipgloss.Style{}, st.hit))
		}
	}
	if len(m.visible) == 0 && !m.loading {
		out = append(out, st.dim.Render("  nothing matches"))
	}
	return out
}

func (m *Model) viewPrompt(st styles) []string {
	it := m.promptItem
	return []string{
		"",
		"Open a tunnel to " + st.title.Render(esc(it.Name)) + " (" + ShortenFrom(it.From, max(m.width-len("Open a tunnel to ")-ansi.StringWidth(esc(it.Name))-3, 12)) + ")",
		"",
		m.prompt.View(),
		"",
		st.dim.Render("127.0.0.1:0 picks a free port"),
	}
}

func (m *Model) viewPanel(st styles) []string {
	p := m.panel
	if p == nil {
		return nil
	}
	state := p.state
	switch state {
	case "listening":
		state = st.ok.Render(state)
	case "failed":
		state = st.err.Render(state)
	}
	nameW := ansi.StringWidth(esc(p.item.Name))
	out := []string{
		"",
		"Tunnel  " + st.title.Render(esc(p.item.Name)) + "  " + ShortenFrom(p.item.From, max(m.width-10-nameW, 12)),
		"Local address:  " + esc(p.addr),
		"State:          " + state,
		fmt.Sprintf("Connections:    %d active, %d total", p.stats.Active, p.stats.Total),
		fmt.Sprintf("Bytes:          %s sent, %s received", cmdutil.Bytes(p.stats.BytesSent), cmdutil.Bytes(p.stats.BytesReceived)),
		"",
		st.dim.Render("Recent events"),
	}
	n := max(m.height-6-len(out), 1)
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

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
