package portal

import (
	"net"
	"strconv"
	"strings"

	"github.com/porthole-dev/porthole/server/config"
)

// Names gives every route its portal name, index for index: the route's
// `name` when set, else the distinguishing leading labels of its host
// (verify.example.com -> "verify"; db.a.example.com and db.b.example.com
// -> "db-a" and "db-b"), then made unique with -2, -3, ... in route order.
// The result depends only on the route list, so it is stable across
// restarts and the same for every user.
func Names(routes []config.Route) []string {
	n := len(routes)
	names := make([]string, n)
	labels := make([][]string, n)
	depth := make([]int, n)
	var auto []int
	isAuto := make([]bool, n)
	for i := range routes {
		if name := strings.TrimSpace(routes[i].Name); name != "" {
			names[i] = name
			continue
		}
		host := displayHost(&routes[i])
		labels[i] = hostLabels(host)
		depth[i] = 1
		isAuto[i] = true
		auto = append(auto, i)
	}
	candidate := func(i int) string {
		if len(labels[i]) == 0 {
			return "route"
		}
		return strings.Join(labels[i][:depth[i]], "-")
	}
	// Deepen the routes whose candidates collide while their hosts differ.
	// Every round deepens at least one route or stops, and depth is bounded
	// by the label count, so this ends.
	for {
		groups := map[string][]int{}
		for _, i := range auto {
			c := candidate(i)
			groups[c] = append(groups[c], i)
		}
		changed := false
		for _, g := range groups {
			if len(g) < 2 || sameHost(routes, g) {
				continue
			}
			for _, i := range g {
				if depth[i] < len(labels[i]) {
					depth[i]++
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	for _, i := range auto {
		names[i] = candidate(i)
	}
	// Uniqueness: explicit names claim theirs first, in route order.
	taken := map[string]bool{}
	claim := func(i int) {
		name := names[i]
		for k := 2; taken[name]; k++ {
			name = names[i] + "-" + strconv.Itoa(k)
		}
		names[i] = name
		taken[name] = true
	}
	for i := range routes {
		if !isAuto[i] {
			claim(i)
		}
	}
	for _, i := range auto {
		claim(i)
	}
	return names
}

// hostLabels splits a host name into labels; an IP address is one label
// with its separators turned into dashes.
func hostLabels(host string) []string {
	host = strings.Trim(host, "[]")
	if host == "" {
		return []string{}
	}
	if net.ParseIP(host) != nil {
		return []string{strings.NewReplacer(".", "-", ":", "-").Replace(host)}
	}
	var out []string
	for _, l := range strings.Split(host, ".") {
		if l != "" {
			out = append(out, l)
		}
	}
	if out == nil {
		return []string{}
	}
	return out
}

func sameHost(routes []config.Route, idx []int) bool {
	first := displayHost(&routes[idx[0]])
	for _, i := range idx[1:] {
		if displayHost(&routes[i]) != first {
			return false
		}
	}
	return true
}
