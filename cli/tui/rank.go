package tui

import (
	"sort"
	"strings"

	"github.com/sahilm/fuzzy"
)

// rankItems filters all by q and orders the matches as people expect of a
// picker: the exact name, then names starting with q, then names holding
// it, then fuzzy name matches, then matches in the other fields (from,
// description); within a tier, the fuzzy score's order.
func rankItems(all []Item, q string) []Item {
	src := make([]string, len(all))
	for i, it := range all {
		src[i] = it.Name + " " + it.From + " " + it.Description
	}
	matches := fuzzy.Find(q, src)
	type ranked struct {
		it   Item
		tier int
	}
	rs := make([]ranked, 0, len(matches))
	for _, mt := range matches {
		rs = append(rs, ranked{all[mt.Index], nameTier(all[mt.Index].Name, q)})
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].tier < rs[j].tier })
	out := make([]Item, len(rs))
	for i, r := range rs {
		out[i] = r.it
	}
	return out
}

func nameTier(name, q string) int {
	n, lq := strings.ToLower(name), strings.ToLower(q)
	switch {
	case n == lq:
		return 0
	case strings.HasPrefix(n, lq):
		return 1
	case strings.Contains(n, lq):
		return 2
	case len(fuzzy.Find(q, []string{name})) > 0:
		return 3
	}
	return 4
}
