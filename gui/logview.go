package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// logItem is one line of the log view: a day's heading or an entry.
type logItem struct {
	day   string // "Tue 1 Dec 2026" for a heading, else ""
	entry LogEntry
}

func (it logItem) text() string {
	if it.day != "" {
		return it.day
	}
	return it.entry.Time.Format("15:04:05") + "  " + it.entry.Text
}

// dayFormat is a log heading's date.
const dayFormat = "Mon 2 Jan 2006"

// logItems groups entries (newest first) under a heading each time the
// day changes: lines show the time only.
func logItems(entries []LogEntry) []logItem {
	out := make([]logItem, 0, len(entries)+1)
	last := ""
	for _, e := range entries {
		if d := e.Time.Format(dayFormat); d != last {
			out = append(out, logItem{day: d})
			last = d
		}
		out = append(out, logItem{entry: e})
	}
	return out
}

// logView is a connection's log: every line whole, wrapped to the pane's
// width (rows grow to fit), under day headings.
type logView struct {
	widget.List
	items   []logItem
	width   float32            // the width the heights were measured for
	heights []float32          // per item, at width
	known   map[string]float32 // height by text at width: most lines stay
	measure *widget.Label
}

func newLogView() *logView {
	v := &logView{measure: newLogLabel()}
	v.Length = func() int { return len(v.items) }
	v.CreateItem = func() fyne.CanvasObject { return newLogLabel() }
	v.UpdateItem = func(i widget.ListItemID, o fyne.CanvasObject) {
		if i < len(v.items) {
			styleLogLabel(o.(*widget.Label), v.items[i])
		}
	}
	// Lines are read, not picked.
	v.OnSelected = func(widget.ListItemID) { v.UnselectAll() }
	v.ExtendBaseWidget(v)
	return v
}

func newLogLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	return l
}

func styleLogLabel(l *widget.Label, it logItem) {
	l.TextStyle = fyne.TextStyle{Bold: it.day != ""}
	l.SetText(it.text())
}

// set shows entries (newest first).
func (v *logView) set(entries []LogEntry) {
	v.items = logItems(entries)
	v.heights = nil
	v.measureAll()
	v.Refresh()
}

// Resize re-measures the rows when the width changes: wrapped lines
// take more or fewer rows.
func (v *logView) Resize(s fyne.Size) {
	if s.Width != v.width {
		v.width = s.Width
		v.heights, v.known = nil, nil
		v.measureAll()
	}
	v.List.Resize(s)
}

// measureAll gives each item the height its wrapped text needs at the
// list's width (minus the scroll bar's room).
func (v *logView) measureAll() {
	if v.width <= 0 || v.heights != nil {
		return
	}
	w := v.width - 2*v.Theme().Size("scrollBar")
	if v.known == nil || len(v.known) > 2*len(v.items)+64 {
		v.known = map[string]float32{} // old lines' heights go
	}
	v.heights = make([]float32, len(v.items))
	for i, it := range v.items {
		key := it.text()
		if it.day != "" {
			key = "\x00" + key // headings are bold
		}
		h, ok := v.known[key]
		if !ok {
			styleLogLabel(v.measure, it)
			v.measure.Resize(fyne.NewSize(w, 1))
			h = v.measure.MinSize().Height
			v.known[key] = h
		}
		v.heights[i] = h
		v.SetItemHeight(i, h)
	}
}
