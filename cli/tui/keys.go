package tui

import "github.com/charmbracelet/bubbles/key"

// listKeys are the route list's keys.
type listKeys struct {
	Up, Down, Open, Filter, ClearFilter, Tab, Copy, Message, Reload, Help, Quit key.Binding
}

func newListKeys() listKeys {
	return listKeys{
		Up:          key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "down")),
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Tab:         key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "saved")),
		Copy:        key.NewBinding(key.WithKeys("c", "ctrl+y"), key.WithHelp("c", "copy")),
		Message:     key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "message")),
		Reload:      key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "reload")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

func (k listKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Filter, k.Tab, k.Copy, k.Message, k.Help, k.Quit}
}

func (k listKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Open, k.Tab},
		{k.Filter, k.ClearFilter, k.Copy, k.Message, k.Reload},
		{k.Help, k.Quit},
	}
}

// promptKeys are the listen-address prompt's keys.
type promptKeys struct{ Accept, Cancel key.Binding }

func newPromptKeys() promptKeys {
	return promptKeys{
		Accept: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "start tunnel")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

func (k promptKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Accept, k.Cancel} }
func (k promptKeys) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Accept, k.Cancel}} }

// panelKeys are the tunnel panel's keys.
type panelKeys struct{ Stop, Copy, Message, Help, Quit key.Binding }

func newPanelKeys() panelKeys {
	return panelKeys{
		Stop:    key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q/esc", "stop tunnel")),
		Copy:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy address")),
		Message: key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "message")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:    key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop and quit")),
	}
}

func (k panelKeys) ShortHelp() []key.Binding { return []key.Binding{k.Stop, k.Copy, k.Message, k.Help} }
func (k panelKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Stop, k.Copy, k.Message}, {k.Help, k.Quit}}
}
