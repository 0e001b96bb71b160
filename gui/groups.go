package gui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/porthole-dev/porthole/connections"
)

// groupKind says which connections a sidebar group holds.
type groupKind int

const (
	groupAll groupKind = iota
	groupTag
	groupUntagged
)

// group is one entry of the sidebar: All, each tag, Untagged.
type group struct {
	Kind  groupKind
	Tag   string
	Count int
}

func (g group) Label() string {
	switch g.Kind {
	case groupAll:
		return fmt.Sprintf("All (%d)", g.Count)
	case groupUntagged:
		return fmt.Sprintf("Untagged (%d)", g.Count)
	}
	return fmt.Sprintf("%s (%d)", g.Tag, g.Count)
}

// same compares groups ignoring their counts.
func (g group) same(o group) bool { return g.Kind == o.Kind && g.Tag == o.Tag }

// groupsOf lists All, each tag in order, and Untagged (when any is).
func groupsOf(list []connections.Connection) []group {
	out := []group{{Kind: groupAll, Count: len(list)}}
	for _, t := range connections.AllTags(list) {
		out = append(out, group{Kind: groupTag, Tag: t, Count: len(connections.WithTag(list, t))})
	}
	if n := len(connections.WithTag(list, "")); n > 0 {
		out = append(out, group{Kind: groupUntagged, Count: n})
	}
	return out
}

func (g group) has(c connections.Connection) bool {
	switch g.Kind {
	case groupTag:
		return slices.Contains(c.Tags, g.Tag)
	case groupUntagged:
		return len(c.Tags) == 0
	}
	return true
}

// matches reports whether every word of query appears (case-insensitive)
// in the connection's name, destination, listen address or tags.
func matches(c connections.Connection, query string) bool {
	hay := strings.ToLower(strings.Join(append([]string{c.Name, c.Destination, c.ListenAddr}, c.Tags...), "\n"))
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// visible is the connections of group g matching query, in list order.
func visible(list []connections.Connection, g group, query string) []connections.Connection {
	var out []connections.Connection
	for _, c := range list {
		if g.has(c) && matches(c, query) {
			out = append(out, c)
		}
	}
	return out
}
