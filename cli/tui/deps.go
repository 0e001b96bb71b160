package tui

import (
	"context"
	"net"
	"strings"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// RouteFetcher fetches the portal's routes; notify receives a sign-in URL
// when the proxy asks for one.
type RouteFetcher interface {
	Routes(ctx context.Context, notify func(signInURL string)) ([]portalclient.Route, error)
}

// SavedLister lists the saved connections (the desktop app's store).
type SavedLister interface {
	List() ([]connections.Connection, error)
}

// Tunnel is a running local listener.
type Tunnel interface {
	Addr() net.Addr
	Stats() tunnel.Stats
	Stop() error
	Done() <-chan struct{}
	Err() error
}

// TunnelStarter opens a local listener for item on addr; onEvent is called
// synchronously by the tunnel and must not block.
type TunnelStarter interface {
	Start(ctx context.Context, item Item, addr string, onEvent func(tunnel.Event)) (Tunnel, error)
}

// URLOpener opens an http route in the browser.
type URLOpener func(ctx context.Context, url string) error

// Item is one row of either tab.
type Item struct {
	Name        string
	Type        string // "tcp", "http", "udp"; saved connections are "tcp" or "udp"
	From        string
	Description string
	Tags        []string // a saved connection's tags
	Command     string   // what `c` copies
	ListenAddr  string   // a saved connection's own listen address
	Status      string   // how its last tunnel in this picker ended ("" if none)

	Route *portalclient.Route
	Saved *connections.Connection
}

// RouteItem builds the row for a portal route.
func RouteItem(r portalclient.Route) Item {
	cmd := r.ConnectCommand
	if cmd == "" {
		if r.Type == "http" {
			cmd = r.From
		} else {
			cmd = "pomerium-cli " + r.Type + " " + r.From
		}
	}
	return Item{Name: r.Name, Type: r.Type, From: r.From, Description: r.Description, Command: cmd, Route: &r}
}

// runKey names an item across reloads, for the status of its last tunnel.
func (it Item) runKey() string {
	switch {
	case it.Saved != nil:
		return "saved\x00" + it.Saved.ID
	case it.Route != nil && it.Route.ID != "":
		return "route\x00" + it.Route.ID
	}
	return "name\x00" + it.Name + "\x00" + it.From
}

// SavedItem builds the row for a saved connection.
func SavedItem(c connections.Connection) Item {
	typ := "tcp"
	if c.UDP() {
		typ = "udp"
	}
	return Item{
		Name: c.Name, Type: typ, From: c.Destination, Tags: c.Tags,
		Command:    "pomerium-cli connections connect " + shellQuote(c.Name),
		ListenAddr: c.ListenAddr, Saved: &c,
	}
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Messages: all I/O runs in tea.Cmds that return one of these.
type (
	routesMsg struct {
		items   []Item
		err     error
		notices int // Model.noticesSent when the fetch returned
	}
	savedMsg struct {
		items []Item
		err   error
	}
	// noticeMsg is a line the sign-in flow would have printed on stderr.
	noticeMsg struct{ line string }
	openedMsg struct {
		url string
		err error
	}
	tunnelStarted struct {
		gen int
		tun Tunnel
		err error
	}
	tunnelEventMsg struct {
		gen     int
		ev      tunnel.Event
		notices int // Model.noticesSent when the event was taken
	}
	tunnelDoneMsg struct {
		gen int
		err error
	}
	tunnelStopped struct{ gen int }
	tickMsg       struct{ gen int }
)
