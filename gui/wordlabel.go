package gui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/internal/shorten"
)

// wordLabel wraps at spaces only: a word wider than the label (a long
// email address) is cut from the middle with "…" rather than broken
// across lines, which Fyne's word wrap does ("dev@example.co" / "m").
type wordLabel struct {
	widget.Label
	full  string
	width float32
}

func newWordLabel() *wordLabel {
	l := &wordLabel{}
	l.Wrapping = fyne.TextWrapWord
	l.ExtendBaseWidget(l)
	return l
}

// setFull sets the whole text and shows it, each word cut to fit.
func (l *wordLabel) setFull(s string) {
	l.full = s
	l.fit()
}

// Resize refits the words to the new width.
func (l *wordLabel) Resize(s fyne.Size) {
	if s.Width != l.width {
		l.width = s.Width
		l.fit()
	}
	l.Label.Resize(s)
}

func (l *wordLabel) fit() {
	text := l.full
	if l.width > 0 {
		avail := l.width - 2*theme.InnerPadding() - theme.Padding()
		text = fitWords(l.full, func(s string) bool {
			return fyne.MeasureText(s, theme.TextSize(), l.TextStyle).Width <= avail
		})
	}
	if text != l.Text {
		l.SetText(text)
	}
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
