package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/internal/shorten"
)

// midLabel shows a destination cut from the middle to the width it gets
// (at most destMaxRunes), so the route's host:port at the end stays
// readable however narrow the row: a plain label would cut the end off.
type midLabel struct {
	widget.Label
	full  string
	width float32
}

func newMidLabel() *midLabel {
	l := &midLabel{}
	l.Truncation = fyne.TextTruncateEllipsis // a last resort below minRunes
	l.ExtendBaseWidget(l)
	return l
}

// minRunes is the shortest cut tried: below it the label just ends in "…".
const minRunes = 8

// setFull sets the whole destination and shows as much as fits.
func (l *midLabel) setFull(s string) {
	l.full = s
	l.fit()
}

// Resize refits the text to the new width.
func (l *midLabel) Resize(s fyne.Size) {
	if s.Width != l.width {
		l.width = s.Width
		l.fit()
	}
	l.Label.Resize(s)
}

func (l *midLabel) fit() {
	text := shorten.Destination(l.full, destMaxRunes)
	if l.width > 0 {
		// The label's own padding each side, and a little slack: the
		// label cuts the end off when a measure comes out a hair short.
		avail := l.width - 2*theme.InnerPadding() - theme.Padding()
		size, style := theme.TextSize(), l.TextStyle
		for n := len([]rune(text)); n >= minRunes; n-- {
			text = shorten.Destination(l.full, n)
			if fyne.MeasureText(text, size, style).Width <= avail {
				break
			}
		}
	}
	if text != l.Text {
		l.SetText(text)
	}
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
