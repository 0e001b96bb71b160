// Package tui is the full-screen route picker behind `pomerium-cli routes
// pick`: a list of the portal's routes and the saved connections with
// fuzzy filtering, a listen-address prompt, and a live panel for a tunnel
// opened in place. All I/O runs in tea.Cmds behind small interfaces so the
// models are tested with fakes and the command wires the real parts.
package tui

import (
	"context"
	"github.com/porthole-dev/porthole/cli/cmdutil"
	"io"
	"strings"
	"sync"

	"github.com/aymanbagabas/go-osc52/v2"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/porthole-dev/porthole/internal/termtext"
)

// DefaultListen is the prompt's pre-filled address when --listen is unset.
const DefaultListen = "127.0.0.1:0"

// Options are what the picker needs from the outside.
type Options struct {
	Server  string // shown in the title
	Routes  RouteFetcher
	Saved   SavedLister // nil: no Saved tab content
	Tunnels TunnelStarter
	Open    URLOpener // nil: the URL is shown instead
	Listen  string    // --listen; "" means DefaultListen
	// Notices carries lines the sign-in flow would print on stderr, so
	// they show in the TUI instead of breaking the screen; nil makes one
	// (write to it through Model.NoticeWriter).
	Notices chan string
	// Clipboard receives the OSC 52 sequence of `c` (the terminal).
	Clipboard io.Writer
	// Renderer draws the styles for the terminal (nil: lipgloss's default).
	Renderer *lipgloss.Renderer
}

type screen int

const (
	screenList screen = iota
	screenPrompt
	screenPanel
	screenMessage
)

type tab int

const (
	tabRoutes tab = iota
	tabSaved
)

// Model is the picker. Build it with New.
type Model struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc

	width, height int
	screen        screen
	back          screen // where the message view returns to
	st            styles
	help          help.Model
	lkeys         listKeys
	pkeys         promptKeys
	mkeys         messageKeys
	msgView       viewport.Model
	copyNote      string

	tab       tab
	routes    []Item
	saved     []Item
	loading   bool
	filter    lineInput
	filtering bool
	visible   []Item
	marks     []match // why each visible row matched the filter
	layout    []placed
	layoutKey layoutKey
	runs      map[string]string // Item.runKey -> how its last tunnel ended
	runsGen   int
	cursor    int

	prompt     lineInput
	promptItem Item

	panel *panel
	gen   int

	status    string
	statusErr bool
	signIn    string
	copied    []string

	// Notices travel apart from the results they precede, so a sign-in
	// URL can arrive after the routes or the tunnel it was for: sent counts
	// notices queued (under sentMu, read by the Cmds that deliver results),
	// read counts those taken, and signedInAt is sent as of the latest
	// finished sign-in; a URL among the first signedInAt is stale.
	sentMu     sync.Mutex
	sent       int
	read       int
	signedInAt int
}

// New builds the picker.
func New(opts Options) *Model {
	ctx, cancel := context.WithCancel(context.Background())
	f := newLineInput(opts.Renderer)
	f.Prompt = "filter: "
	f.Placeholder = "type to filter"
	p := newLineInput(opts.Renderer)
	p.Prompt = "listen on: "
	p.CharLimit = 256
	m := &Model{
		opts: opts, ctx: ctx, cancel: cancel,
		width: 80, height: 24,
		help: help.New(), lkeys: newListKeys(), pkeys: newPromptKeys(), mkeys: newMessageKeys(),
		st:     newStyles(opts.Renderer),
		filter: f, prompt: p, loading: true,
	}
	if m.opts.Notices == nil {
		m.opts.Notices = make(chan string, 32)
	}
	return m
}

// SetOpener sets how http routes open (before the program runs).
func (m *Model) SetOpener(open URLOpener) { m.opts.Open = open }

// Copied are the commands copied with `c`, to print on stdout at exit.
func (m *Model) Copied() []string { return m.copied }

// Close stops a running tunnel and cancels work under way; call it after
// the program ends.
func (m *Model) Close() {
	if m.panel != nil && m.panel.tun != nil {
		m.panel.tun.Stop()
	}
	m.cancel()
}

// Init starts fetching both tabs and listening for sign-in notices.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.fetchRoutes(), m.fetchSaved(), m.waitNotice())
}

func (m *Model) fetchRoutes() tea.Cmd {
	ctx, f := m.ctx, m.opts.Routes
	notices := m.noticeSink()
	return func() tea.Msg {
		rs, err := f.Routes(ctx, func(u string) { notices("sign in: " + u) })
		items := make([]Item, 0, len(rs))
		for _, r := range rs {
			items = append(items, RouteItem(r))
		}
		return routesMsg{items: items, err: err, notices: m.noticesSent()}
	}
}

func (m *Model) fetchSaved() tea.Cmd {
	s := m.opts.Saved
	if s == nil {
		return nil
	}
	return func() tea.Msg {
		list, err := s.List()
		items := make([]Item, 0, len(list))
		for _, c := range list {
			items = append(items, SavedItem(c))
		}
		return savedMsg{items: items, err: err}
	}
}

// noticeSink returns a non-blocking sender for sign-in notices. The routes
// fetch reports through it while its Cmd is still running.
func (m *Model) noticeSink() func(string) {
	ch := m.opts.Notices
	return func(s string) {
		m.sentMu.Lock()
		defer m.sentMu.Unlock()
		select {
		case ch <- s:
			m.sent++
		default: // a flood of notices must not block a fetch
		}
	}
}

// noticesSent is how many notices were queued so far; a Cmd takes it when
// its result is ready, after any notice the work behind it wrote.
func (m *Model) noticesSent() int {
	m.sentMu.Lock()
	defer m.sentMu.Unlock()
	return m.sent
}

// signedIn clears the sign-in banner: the sign-in behind the notices
// queued up to sent is over, so a URL among them must not bring it back.
func (m *Model) signedIn(sent int) {
	m.signIn = ""
	m.signedInAt = max(m.signedInAt, sent)
}

// NoticeWriter is an io.Writer whose lines reach the TUI as notices; give
// it to the sign-in flow as its Stderr while the TUI runs.
func (m *Model) NoticeWriter() io.Writer { return &lineWriter{send: m.noticeSink()} }

type lineWriter struct {
	mu   sync.Mutex
	send func(string)
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		w.send(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (m *Model) waitNotice() tea.Cmd {
	ch, done := m.opts.Notices, m.ctx.Done()
	return func() tea.Msg {
		select {
		case line := <-ch:
			return noticeMsg{line: line}
		case <-done:
			return nil
		}
	}
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		if m.screen == screenMessage {
			m.sizeMessage()
		}
		return m, nil
	case routesMsg:
		m.loading = false
		if msg.err != nil {
			m.setFailure("routes", msg.err)
			return m, nil
		}
		m.routes = msg.items
		m.applyRuns(m.routes)
		m.signedIn(msg.notices)
		if !m.statusErr {
			m.status = ""
		}
		m.refilter()
		return m, nil
	case savedMsg:
		if msg.err != nil {
			m.setFailure("saved connections", msg.err)
			return m, nil
		}
		m.saved = msg.items
		m.applyRuns(m.saved)
		m.refilter()
		return m, nil
	case noticeMsg:
		m.notice(msg.line)
		return m, m.waitNotice()
	case openedMsg:
		if msg.err != nil {
			m.setFailure("opening "+msg.url, msg.err)
		} else {
			m.setStatus("opened " + msg.url + " in the browser")
		}
		return m, nil
	case tunnelStarted, tunnelEventMsg, tunnelDoneMsg, tunnelStopped, tickMsg:
		return m, m.updatePanel(msg)
	case tea.KeyMsg:
		if key.Matches(msg, m.lkeys.Help) && !(m.screen == screenList && m.filtering) && m.screen != screenPrompt && m.screen != screenMessage {
			m.help.ShowAll = !m.help.ShowAll
			return m, nil
		}
		switch m.screen {
		case screenMessage:
			return m, m.updateMessage(msg)
		case screenPrompt:
			return m, m.updatePrompt(msg)
		case screenPanel:
			return m, m.updatePanel(msg)
		}
		return m, m.updateList(msg)
	}
	return m, nil
}

// notice takes a line of the sign-in flow's output. A sign-in URL becomes
// the banner (unless that sign-in is already over); a line that only leads
// in to the URL ("Your browser has been opened to visit:") is dropped, as
// the banner says it, and would otherwise outlive the sign-in.
func (m *Model) notice(line string) {
	m.read++
	line = strings.TrimSpace(line)
	if line == "" || strings.HasSuffix(line, ":") {
		return
	}
	if u := findURL(line); u != "" && strings.Contains(strings.ToLower(line), "sign") {
		if m.read > m.signedInAt {
			m.signIn = u
		}
		return
	}
	m.setStatus(line)
}

func findURL(s string) string {
	for _, f := range strings.Fields(s) {
		if strings.HasPrefix(f, "https://") || strings.HasPrefix(f, "http://") {
			return strings.TrimRight(f, ".,;)")
		}
	}
	return ""
}

// The status keeps its whole text: the screen wraps and caps it, the
// message view (m) shows and copies all of it.
func (m *Model) setStatus(s string) { m.status, m.statusErr = s, false }
func (m *Model) setError(s string)  { m.status, m.statusErr = s, true }

// setFailure shows err the way the CLI says it: one line and the hint
// (cmdutil.ExplainLine), so the picker and the commands explain alike.
func (m *Model) setFailure(what string, err error) {
	m.setError(what + ": " + cmdutil.ExplainLine(err, m.opts.Server))
}

// setRun records how it's tunnel ended, shown in the STATUS column.
func (m *Model) setRun(it Item, status string) {
	if m.runs == nil {
		m.runs = map[string]string{}
	}
	m.runs[it.runKey()] = status
	m.runsGen++
	m.applyRuns(m.routes)
	m.applyRuns(m.saved)
	m.refilter()
}

func (m *Model) applyRuns(items []Item) {
	for i := range items {
		items[i].Status = m.runs[items[i].runKey()]
	}
}

func (m *Model) items() []Item {
	if m.tab == tabSaved {
		return m.saved
	}
	return m.routes
}

// refilter recomputes the visible rows: all in order without a filter, else
// the matches ranked by rankItems.
func (m *Model) refilter() {
	all := m.items()
	q := strings.TrimSpace(m.filter.Value())
	if q == "" {
		m.visible, m.marks = all, nil
	} else {
		m.visible, m.marks = rankItems(all, q)
	}
	if m.cursor >= len(m.visible) {
		m.cursor = len(m.visible) - 1
	}
	if m.cursor < 0 {
		m.cursor = 0
	}
}

func (m *Model) selected() (Item, bool) {
	if m.cursor < 0 || m.cursor >= len(m.visible) {
		return Item{}, false
	}
	return m.visible[m.cursor], true
}

func (m *Model) updateList(msg tea.KeyMsg) tea.Cmd {
	k := m.lkeys
	switch {
	case msg.Type == tea.KeyCtrlC:
		return tea.Quit
	case key.Matches(msg, k.Up):
		if m.cursor > 0 {
			m.cursor--
		}
		return nil
	case key.Matches(msg, k.Down):
		if m.cursor < len(m.visible)-1 {
			m.cursor++
		}
		return nil
	case key.Matches(msg, k.Tab):
		m.tab = 1 - m.tab
		m.cursor = 0
		m.refilter()
		return nil
	case key.Matches(msg, k.Open):
		m.filtering = false
		m.filter.Blur()
		return m.open()
	case key.Matches(msg, k.Reload):
		m.loading = true
		return tea.Batch(m.fetchRoutes(), m.fetchSaved())
	case msg.Type == tea.KeyCtrlY:
		return m.copy()
	}
	if m.filtering {
		if key.Matches(msg, k.ClearFilter) {
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.refilter()
			return nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.refilter()
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Copy):
		return m.copy()
	case key.Matches(msg, k.Message):
		m.copyNote = ""
		m.openMessage()
		return nil
	case key.Matches(msg, k.Filter):
		m.filtering = true
		return m.filter.Focus()
	case key.Matches(msg, k.ClearFilter):
		if m.filter.Value() != "" {
			m.filter.SetValue("")
			m.refilter()
		}
		return nil
	case msg.Type == tea.KeyRunes && len(msg.Runes) > 0 && !msg.Alt:
		// Typing starts filtering with what was typed.
		m.filtering = true
		cmd := m.filter.Focus()
		m.filter.SetValue(m.filter.Value() + string(msg.Runes))
		m.filter.CursorEnd()
		m.refilter()
		return cmd
	}
	return nil
}

// copy puts the selected row's command on the clipboard with OSC 52 and
// remembers it for stdout at exit (the terminal may ignore OSC 52).
func (m *Model) copy() tea.Cmd {
	it, ok := m.selected()
	if !ok {
		m.setError("nothing selected to copy")
		return nil
	}
	m.copyText(it.Command)
	return nil
}

// copyText copies s, a command or an address, escaped: a portal's
// connect command with a newline in it must not run when pasted.
func (m *Model) copyText(s string) {
	s = termtext.Escape(s)
	m.copied = append(m.copied, s)
	if err := m.clipboard(s); err != nil {
		m.setError("copying: " + err.Error())
		return
	}
	m.setStatus("copied: " + s)
}

// clipboard sets the terminal's clipboard with OSC 52.
func (m *Model) clipboard(s string) error {
	if w := m.opts.Clipboard; w != nil {
		if _, err := osc52.New(s).WriteTo(w); err != nil {
			return err
		}
	}
	return nil
}

// open acts on the selected row: an http route opens in the browser, a
// tcp or udp route or saved connection asks for the listen address.
func (m *Model) open() tea.Cmd {
	it, ok := m.selected()
	if !ok {
		m.setError("no route selected")
		return nil
	}
	switch it.Type {
	case "http":
		open, ctx := m.opts.Open, m.ctx
		if open == nil {
			m.setStatus("open " + it.From + " in your browser")
			return nil
		}
		return func() tea.Msg { return openedMsg{url: it.From, err: open(ctx, it.From)} }
	case "tcp", "udp":
		addr := m.opts.Listen
		if addr == "" {
			addr = it.ListenAddr
		}
		if addr == "" {
			addr = DefaultListen
		}
		m.promptItem = it
		// A listen address from a connections file is data: the prompt
		// shows (and would try) it escaped, never raw.
		m.prompt.SetValue(termtext.Escape(addr))
		m.prompt.CursorEnd()
		m.screen = screenPrompt
		return m.prompt.Focus()
	}
	m.setError(it.Name + ": " + it.Type + " routes cannot be opened here; copy the command with c")
	return nil
}

func (m *Model) updatePrompt(msg tea.KeyMsg) tea.Cmd {
	switch {
	case msg.Type == tea.KeyCtrlC:
		return tea.Quit
	case key.Matches(msg, m.pkeys.Cancel):
		m.prompt.Blur()
		m.screen = screenList
		return nil
	case key.Matches(msg, m.pkeys.Accept):
		addr := strings.TrimSpace(m.prompt.Value())
		if addr == "" {
			addr = DefaultListen
		}
		m.prompt.Blur()
		return m.startTunnel(m.promptItem, addr)
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(msg)
	return cmd
}
