package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/internal/shorten"
)

// fitLabel shows as much of its full text as fits the width it gets,
// refitting on every resize: cut decides how the text gives way (a
// destination from the middle, an email word by word), since a plain
// label can only cut the end off.
type fitLabel struct {
	widget.Label
	full  string
	width float32
	cut   func(full string, fits func(string) bool) string
}

// setFull sets the whole text and shows as much as fits.
func (l *fitLabel) setFull(s string) {
	l.full = s
	l.fit()
}

// Resize refits the text to the new width.
func (l *fitLabel) Resize(s fyne.Size) {
	if s.Width != l.width {
		l.width = s.Width
		l.fit()
	}
	l.Label.Resize(s)
}

func (l *fitLabel) fit() {
	fits := func(string) bool { return true } // not laid out yet
	if l.width > 0 {
		// The label's own padding each side, and a little slack: the
		// label cuts the end off when a measure comes out a hair short.
		avail := l.width - 2*theme.InnerPadding() - theme.Padding()
		size, style := theme.TextSize(), l.TextStyle
		fits = func(s string) bool { return fyne.MeasureText(s, size, style).Width <= avail }
	}
	if text := l.cut(l.full, fits); text != l.Text {
		l.SetText(text)
	}
}

// midLabel shows a destination cut from the middle to the width it gets
// (at most destMaxRunes), so the route's host:port at the end stays
// readable however narrow the row.
type midLabel struct{ fitLabel }

func newMidLabel() *midLabel {
	l := &midLabel{}
	l.cut = cutDestination
	l.Truncation = fyne.TextTruncateEllipsis // a last resort below minRunes
	l.ExtendBaseWidget(l)
	return l
}

// minRunes is the shortest cut tried: below it the label just ends in "…".
const minRunes = 8

// cutDestination is the longest middle cut of full (up to destMaxRunes)
// that fits.
func cutDestination(full string, fits func(string) bool) string {
	text := shorten.Destination(full, destMaxRunes)
	for n := len([]rune(text)); n >= minRunes; n-- {
		text = shorten.Destination(full, n)
		if fits(text) {
			break
		}
	}
	return text
}

// labelWidth is how wide a label must be to show text whole in style.
func labelWidth(text string, style fyne.TextStyle) float32 {
	return fyne.MeasureText(text, theme.TextSize(), style).Width + 2*theme.InnerPadding() + theme.Padding()
}

// destFloorMax bounds the floor of a destination whose own host:port is
// very long: it is cut further (keeping its port) rather than pushing the
// rest of the row out.
const destFloorMax = 240

// floor is the narrowest width that still shows the place the
// destination reaches whole ("…echo.internal:7000"); the row never gives
// the destination less.
func (l *midLabel) floor() float32 {
	a, b := shorten.DestSpan(l.full)
	n := len([]rune(l.full[a:b]))
	if a > 0 || b < len(l.full) {
		n++ // the "…" before it
	}
	return min(labelWidth(shorten.Destination(l.full, n), l.TextStyle), destFloorMax)
}

// natural is the width that shows the destination as long as it gets.
func (l *midLabel) natural() float32 {
	return labelWidth(shorten.Destination(l.full, destMaxRunes), l.TextStyle)
}
