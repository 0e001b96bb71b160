package tui

import (
	"errors"
	"fmt"
	"testing"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext/termtest"
	"github.com/porthole-dev/porthole/portalclient"
	"github.com/porthole-dev/porthole/tunnel"
)

// Every screen renders portal routes, saved connections, notices, errors
// and tunnel events escaped: only the TUI's own colours are raw escapes.
func TestViewEscapesHostileData(t *testing.T) {
	var routes []portalclient.Route
	var saved []connections.Connection
	for i, s := range termtest.Samples {
		routes = append(routes, portalclient.Route{ID: fmt.Sprint(i), Name: s, Type: "tcp", From: "tcp+https://p/" + s, Description: s})
		saved = append(saved, connections.Connection{ID: fmt.Sprint(i), Name: s, Destination: s, Tags: []string{s}})
	}
	tm, _ := newTest(t, Options{Server: "https://p/\x1b]0;t\x07", Routes: &fakeFetcher{routes: routes}, Saved: fakeSaved{list: saved}})
	want := fmt.Sprintf("%d of %d routes", len(routes), len(routes))
	waitScreen(t, tm, want)
	m := final(t, tm)
	check := func(screen string) {
		t.Helper()
		if err := termtest.Check(m.View(), true); err != nil {
			t.Errorf("%s: %v", screen, err)
		}
	}
	check("routes tab")
	m.tab = tabSaved
	m.refilter()
	check("saved tab")
	for _, s := range termtest.Samples {
		m.setError("routes: " + s)
		check("error line")
		m.notice("Sign in at https://p/" + s)
		check("sign-in banner")
		m.notice("notice " + s)
		check("notice")
	}
	m.screen, m.promptItem = screenPrompt, m.items()[0]
	check("prompt")
	// Enter on a saved connection whose listen address is hostile.
	for _, s := range termtest.Samples {
		m.screen = screenList
		m.saved = []Item{SavedItem(connections.Connection{ID: "x", Name: "x", Destination: "tcp+https://p/x:1", ListenAddr: s})}
		m.tab = tabSaved
		m.refilter()
		m.open()
		if m.screen != screenPrompt {
			t.Fatalf("enter on a saved connection: screen %d; want the prompt", m.screen)
		}
		check("prompt with a hostile listen address")
	}
	m.tab = tabRoutes
	var evs []tunnel.Event
	for _, s := range termtest.Samples {
		evs = append(evs, tunnel.Event{Kind: tunnel.EventError, ConnID: 1, Err: errors.New(s)}, tunnel.Event{Kind: tunnel.EventConnecting, Addr: s})
	}
	m.screen, m.panel = screenPanel, &panel{item: m.items()[1], addr: termtest.Samples[0], state: "listening", events: evs}
	m.height = 60
	check("tunnel panel")
}
