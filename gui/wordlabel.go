package gui

import (
	"strings"

	"fyne.io/fyne/v2"

	"github.com/porthole-dev/porthole/internal/shorten"
)

// wordLabel wraps at spaces only: a word wider than the label (a long
// email address) is cut from the middle with "…" rather than broken
// across lines, which Fyne's word wrap does ("dev@example.co" / "m").
type wordLabel struct{ fitLabel }

func newWordLabel() *wordLabel {
	l := &wordLabel{}
	l.cut = fitWords
	l.Wrapping = fyne.TextWrapWord
	l.ExtendBaseWidget(l)
	return l
}

// fitWords cuts from the middle each space-separated word of s that fits
// no line on its own.
func fitWords(s string, fits func(string) bool) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		n := len([]rune(w))
		for n > 4 && !fits(shorten.Middle(w, n)) {
			n--
		}
		words[i] = shorten.Middle(w, n)
	}
	return strings.Join(words, " ")
}
