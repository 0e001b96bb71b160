package tui

import (
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func benchItems(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{Name: fmt.Sprintf("service-%04d-db", i), Type: "tcp",
			From:        fmt.Sprintf("tcp+https://proxy.example.com/service-%04d.internal:%d", i, 1000+i),
			Description: "a route of the benchmark with a description of some length"}
	}
	return items
}

// BenchmarkFilterKeystroke is one keystroke's work with 2,000 routes:
// ranking them and drawing the screen; BenchmarkViewNoFilter is the
// baseline of drawing without a filter.
func BenchmarkFilterKeystroke(b *testing.B) {
	m := New(Options{})
	defer m.Close()
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(routesMsg{items: benchItems(2000)})
	m.filter.SetValue("db")
	b.ResetTimer()
	for range b.N {
		m.refilter()
		_ = m.View()
	}
}

func BenchmarkViewNoFilter(b *testing.B) {
	m := New(Options{})
	defer m.Close()
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(routesMsg{items: benchItems(2000)})
	b.ResetTimer()
	for range b.N {
		_ = m.View()
	}
}
