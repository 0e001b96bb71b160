// Package editdist is the one edit distance behind every "did you mean":
// mistyped config keys (server/config) and mistyped flags (cli).
package editdist

// MaxLen bounds the cost: a string longer than this (a hostile or pasted
// word, never a real key or flag name) is MaxLen away from everything.
const MaxLen = 64

// Distance is the Levenshtein distance of a and b, counted in bytes (keys
// and flag names are ASCII); MaxLen when either is longer than MaxLen.
func Distance(a, b string) int {
	if len(a) > MaxLen || len(b) > MaxLen {
		return MaxLen
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
