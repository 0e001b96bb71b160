package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/porthole-dev/porthole/tunnel"
)

// maxEvents is how many recent tunnel events the panel keeps.
const maxEvents = 50

// tickEvery is how often the panel refreshes the tunnel's counters.
const tickEvery = 500 * time.Millisecond

// panel is the live view of one tunnel opened in place.
type panel struct {
	gen    int
	item   Item
	addr   string // as asked; the real address once listening
	state  string
	tun    Tunnel
	stats  tunnel.Stats
	events []tunnel.Event
	ch     chan tunnel.Event
	stop   chan struct{}
	keys   panelKeys
}

func (m *Model) startTunnel(it Item, addr string) tea.Cmd {
	m.gen++
	p := &panel{
		gen: m.gen, item: it, addr: addr, state: "starting",
		ch: make(chan tunnel.Event, 256), stop: make(chan struct{}), keys: newPanelKeys(),
	}
	m.panel = p
	m.screen = screenPanel
	ts, ctx := m.opts.Tunnels, m.ctx
	start := func() tea.Msg {
		onEvent := func(e tunnel.Event) {
			select {
			case p.ch <- e:
			default: // the panel is behind; counters still come from Stats
			}
		}
		tun, err := ts.Start(ctx, it, addr, onEvent)
		return tunnelStarted{gen: p.gen, tun: tun, err: err}
	}
	return tea.Batch(start, m.waitEvent(p))
}

// waitEvent forwards the next tunnel event of p as a message.
func (m *Model) waitEvent(p *panel) tea.Cmd {
	gen, ch, stop := p.gen, p.ch, p.stop
	return func() tea.Msg {
		select {
		case e := <-ch:
			return tunnelEventMsg{gen: gen, ev: e, notices: m.noticesSent()}
		case <-stop:
			return nil
		}
	}
}

func (p *panel) waitDone() tea.Cmd {
	gen, tun := p.gen, p.tun
	return func() tea.Msg {
		<-tun.Done()
		return tunnelDoneMsg{gen: gen, err: tun.Err()}
	}
}

func tick(gen int) tea.Cmd {
	return tea.Tick(tickEvery, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

func (m *Model) updatePanel(msg tea.Msg) tea.Cmd {
	p := m.panel
	switch msg := msg.(type) {
	case tunnelStarted:
		if p == nil || msg.gen != p.gen {
			if msg.tun != nil { // stopped before it started
				tun := msg.tun
				return func() tea.Msg { tun.Stop(); return nil }
			}
			return nil
		}
		if msg.err != nil {
			p.state = "failed"
			m.closePanel()
			m.setFailure(p.item.Name, msg.err)
			return nil
		}
		p.tun = msg.tun
		p.addr = msg.tun.Addr().String()
		p.state = "listening"
		m.setStatus("")
		return tea.Batch(tick(p.gen), p.waitDone())
	case tunnelEventMsg:
		if p == nil || msg.gen != p.gen {
			return nil
		}
		p.addEvent(msg.ev)
		switch msg.ev.Kind {
		case tunnel.EventSignIn:
			m.signIn = msg.ev.SignInURL
		case tunnel.EventConnected:
			m.signedIn(msg.notices)
		case tunnel.EventError:
			if msg.ev.Err != nil {
				m.setFailure(p.item.Name, msg.ev.Err)
			}
		}
		return m.waitEvent(p)
	case tickMsg:
		if p == nil || msg.gen != p.gen || p.tun == nil {
			return nil
		}
		p.stats = p.tun.Stats()
		return tick(p.gen)
	case tunnelDoneMsg:
		if p == nil || msg.gen != p.gen {
			return nil
		}
		p.state = "stopped"
		if msg.err != nil {
			p.state = "failed"
			m.setFailure(p.item.Name, msg.err)
		}
		return nil
	case tunnelStopped:
		if p != nil && msg.gen == p.gen {
			m.closePanel()
		}
		return nil
	case tea.KeyMsg:
		if p == nil {
			return nil
		}
		switch {
		case key.Matches(msg, p.keys.Quit):
			return tea.Quit // Close stops the tunnel
		case key.Matches(msg, p.keys.Stop):
			return m.stopPanel()
		case key.Matches(msg, p.keys.Copy):
			if p.tun != nil {
				m.copyText(p.addr)
			}
		case key.Matches(msg, p.keys.Message):
			m.copyNote = ""
			m.openMessage()
		}
	}
	return nil
}

// stopPanel stops the tunnel and returns to the list right away; the stop
// itself (closing live connections) runs in a Cmd.
func (m *Model) stopPanel() tea.Cmd {
	p := m.panel
	tun, name := p.tun, p.item.Name
	m.closePanel()
	m.setStatus("stopped " + name)
	if !m.loading {
		// Its sign-in, if one was waiting, is cancelled with it.
		m.signedIn(m.noticesSent())
	}
	if tun == nil {
		return nil
	}
	return func() tea.Msg {
		tun.Stop()
		return tunnelStopped{gen: -1}
	}
}

func (m *Model) closePanel() {
	if p := m.panel; p != nil {
		m.setRun(p.item, p.outcome())
	}
	if m.panel != nil {
		close(m.panel.stop)
	}
	m.panel = nil
	m.screen = screenList
}

func (p *panel) addEvent(e tunnel.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Kind == tunnel.EventListening && e.Addr != "" {
		p.addr = e.Addr
	}
	p.events = append(p.events, e)
	if len(p.events) > maxEvents {
		p.events = p.events[len(p.events)-maxEvents:]
	}
	if p.tun != nil {
		p.stats = p.tun.Stats()
	}
}

// outcome is how the tunnel ended, for the list's STATUS column.
func (p *panel) outcome() string {
	if p.state == "failed" {
		return "failed"
	}
	if p.tun != nil {
		p.stats = p.tun.Stats()
	}
	return "stopped, " + plural(int(p.stats.Total), "connection")
}
