package tui

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sahilm/fuzzy"
)

// field is one column's data of an Item, as matched and drawn.
type field int

const (
	fName field = iota
	fType
	fFrom
	fDesc
	fTags
	fListen
	fStatus
	nFields
)

// text is what the column of f shows for it (raw, clipped; drawing
// escapes it).
func (it Item) text(f field) string { return clip(it.rawText(f)) }

func (it Item) rawText(f field) string {
	switch f {
	case fName:
		return it.Name
	case fType:
		return it.Type
	case fFrom:
		return it.From
	case fDesc:
		return it.Description
	case fTags:
		return strings.Join(it.Tags, ", ")
	case fStatus:
		return it.Status
	case fListen:
		if it.Saved != nil && it.ListenAddr == "" {
			return "auto"
		}
		return it.ListenAddr
	}
	return ""
}

// Match tiers, best first: what people expect of a picker is that the
// name they are typing wins over a word that happens to be in a URL.
const (
	tierExact    = iota // the whole name, any case
	tierPrefix          // the name starts with the query
	tierContains        // the name holds the query
	tierFuzzy           // the query's letters in order in the name
	tierOther           // another field holds the query (from, description, tags, listen address)
)

// match is why a row is shown for a filter and what to highlight: the raw
// byte offsets matched in each field.
type match struct {
	tier  int
	score int // fuzzy score; higher first within tierFuzzy
	field field
	hits  [nFields][]int
}

// otherFields are searched, in this order, when the name does not match.
// Fuzzy matching is kept to names: in a URL a few scattered letters match
// almost any query and would bury the rows people look for.
var otherFields = []field{fFrom, fDesc, fTags, fListen}

// rankItems filters all by q, best first: the exact name, names starting
// with q, names holding q, fuzzy name matches (by score), then rows where
// another field holds q (from before description before tags). Ties keep
// the portal's order.
func rankItems(all []Item, q string) ([]Item, []match) {
	type ranked struct {
		i int
		m match
	}
	var rs []ranked
	for i, it := range all {
		if m, ok := matchItem(it, q); ok {
			rs = append(rs, ranked{i, m})
		}
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].m, rs[j].m
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if a.tier == tierFuzzy && a.score != b.score {
			return a.score > b.score
		}
		if a.tier == tierOther && a.field != b.field {
			return a.field < b.field
		}
		return false
	})
	items, ms := make([]Item, len(rs)), make([]match, len(rs))
	for k, r := range rs {
		items[k], ms[k] = all[r.i], r.m
	}
	return items, ms
}

// matchItem reports whether it matches q, and how.
func matchItem(it Item, q string) (match, bool) {
	var m match
	name := it.text(fName)
	if s, e := indexFold(name, q); s >= 0 {
		m.hits[fName] = runeStarts(name, s, e)
		switch {
		case s == 0 && e == len(name):
			m.tier = tierExact
		case s == 0:
			m.tier = tierPrefix
		default:
			m.tier = tierContains
		}
		return m, true
	}
	if fm := fuzzy.Find(q, []string{name}); len(fm) == 1 {
		m.tier, m.score, m.field = tierFuzzy, fm[0].Score, fName
		m.hits[fName] = fm[0].MatchedIndexes
		return m, true
	}
	found := false
	for _, f := range otherFields {
		t := it.text(f)
		if s, e := indexFold(t, q); s >= 0 {
			if !found {
				m.tier, m.field, found = tierOther, f, true
			}
			m.hits[f] = runeStarts(t, s, e)
		}
	}
	return m, found
}

// indexFold finds q in s ignoring case (Unicode simple folding), returning
// the matched byte range of s, or -1, -1. Byte offsets of s itself, so
// highlighting lands on the right characters even where lower-casing
// would change a string's length.
func indexFold(s, q string) (start, end int) {
	if q == "" {
		return -1, -1
	}
	for i := 0; i < len(s); {
		if n, ok := prefixFold(s[i:], q); ok {
			return i, i + n
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return -1, -1
}

func prefixFold(s, q string) (int, bool) {
	j := 0
	for _, qr := range q {
		if j >= len(s) {
			return 0, false
		}
		r, n := utf8.DecodeRuneInString(s[j:])
		if !foldEq(r, qr) {
			return 0, false
		}
		j += n
	}
	return j, true
}

func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// runeStarts lists the byte offsets of the runes of s[start:end].
func runeStarts(s string, start, end int) []int {
	var out []int
	for i := start; i < end; {
		out = append(out, i)
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return out
}
