package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// twoColumns lays buttons out in two equal columns when the width holds
// two of the widest, else in one: the detail pane's buttons never make
// the pane (and so the window) wider than one button needs.
type twoColumns struct{}

func (twoColumns) cell(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(0, 0)
	for _, o := range objs {
		if o.Visible() {
			s = s.Max(o.MinSize())
		}
	}
	return s
}

func (twoColumns) count(objs []fyne.CanvasObject) int {
	n := 0
	for _, o := range objs {
		if o.Visible() {
			n++
		}
	}
	return n
}

func (l twoColumns) cols(objs []fyne.CanvasObject, width float32) int {
	if width >= 2*l.cell(objs).Width+theme.Padding() {
		return 2
	}
	return 1
}

func (l twoColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	c, n := l.cell(objs), l.count(objs)
	rows := float32(n+1) / 2 // as laid out two abreast, the usual case
	if n == 0 {
		return fyne.NewSize(0, 0)
	}
	return fyne.NewSize(c.Width, float32(int(rows))*c.Height+float32(int(rows)-1)*theme.Padding())
}

func (l twoColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	cols := l.cols(objs, size.Width)
	pad := theme.Padding()
	w := (size.Width - float32(cols-1)*pad) / float32(cols)
	h := l.cell(objs).Height
	i := 0
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		col, row := i%cols, i/cols
		o.Move(fyne.NewPos(float32(col)*(w+pad), float32(row)*(h+pad)))
		o.Resize(fyne.NewSize(w, h))
		i++
	}
}
