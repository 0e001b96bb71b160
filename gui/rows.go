package gui

import (
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/connections"
)

// connRow is one connection on one line: status dot, name, tag chips,
// destination shortened from the middle, local address, status with the
// live counters, and its on/off switch. Tapping it selects it; the mouse
// over it lights it.
type connRow struct {
	widget.BaseWidget
	w       *MainWindow
	id      string
	dot     *canvas.Circle
	kind    string // the dot's kind (dotOff, ...)
	name    *widget.Label
	tags    *fyne.Container // one tagChip per tag
	dest    *midLabel
	listen  *widget.Label
	status  *widget.Label     // State.Short: "2 active · ↑1.2 MiB ↓40 KiB"
	cfgAddr string            // the saved local address, shown while off
	signIn  *widget.Hyperlink // replaces the status while a sign-in waits
	toggle  *widget.Check
	bg      *canvas.Rectangle // selection
	hoverBg *canvas.Rectangle
	// syncing is set while the switch is moved to match the state, so
	// that move is not taken for the user's.
	syncing  bool
	selected bool
	hovered  bool
	// right and line are laid out again when the status's width changes.
	right, line *fyne.Container
}

// listenWidth lines the local addresses up ("127.0.0.1:65535"; longer
// ones end in "…", the detail pane has them whole). The status takes
// what its text needs, so an idle row leaves the room to the destination.
const listenWidth = 152

// statusMax caps the status column ("12 active · ↑99.9 MiB ↓99.9 MiB"
// fits); a longer status (an error) ends in "…" and is whole in the
// detail pane.
const statusMax = 240

// statusLayout gives the status the width its text needs, up to
// statusMax, so an idle row leaves the room to the destination and no
// status widens the window.
type statusLayout struct{ r *connRow }

func (l statusLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := l.r.status
	w := fyne.MeasureText(s.Text, theme.TextSize(), s.TextStyle).Width + 2*theme.InnerPadding() + theme.Padding()
	if l.r.signIn.Visible() {
		w = l.r.signIn.MinSize().Width
	}
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(min(w, statusMax), h)
}

func (statusLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func newConnRow(w *MainWindow, id string) *connRow {
	r := &connRow{w: w, id: id,
		name:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		tags:    container.NewHBox(),
		dest:    newMidLabel(),
		listen:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}),
		status:  widget.NewLabel(""),
		bg:      canvas.NewRectangle(theme.Color(theme.ColorNameSelection)),
		hoverBg: canvas.NewRectangle(theme.Color(theme.ColorNameHover)),
		dot:     canvas.NewCircle(dotColor(dotOff)),
	}
	r.bg.Hide()
	r.hoverBg.Hide()
	r.listen.Truncation = fyne.TextTruncateEllipsis
	r.status.Truncation = fyne.TextTruncateEllipsis
	r.signIn = widget.NewHyperlink("signing in: open the sign-in page", nil)
	r.signIn.OnTapped = func() {
		if r.signIn.URL != nil {
			_ = w.app.OpenURL(r.signIn.URL)
		}
	}
	r.signIn.Hide()
	r.toggle = widget.NewCheck("", func(on bool) {
		if !r.syncing {
			w.setRunning(id, on)
		}
	})
	r.ExtendBaseWidget(r)
	return r
}

func (r *connRow) CreateRenderer() fyne.WidgetRenderer {
	dot := container.NewCenter(container.NewGridWrap(fyne.NewSize(10, 10), r.dot))
	left := container.NewHBox(dot, r.name, container.NewCenter(r.tags))
	h := r.status.MinSize().Height
	status := container.New(statusLayout{r}, r.status, r.signIn)
	listen := container.NewGridWrap(fyne.NewSize(listenWidth, h), r.listen)
	r.right = container.NewHBox(listen, status, r.toggle)
	r.line = container.NewBorder(nil, nil, left, r.right, r.dest)
	return widget.NewSimpleRenderer(container.NewStack(r.hoverBg, r.bg, container.NewVBox(r.line, widget.NewSeparator())))
}

// Tapped selects the row.
func (r *connRow) Tapped(*fyne.PointEvent) { r.w.selectConn(r.id) }

// MouseIn lights the row under the mouse (desktop.Hoverable).
func (r *connRow) MouseIn(*desktop.MouseEvent) { r.hovered = true; r.paint() }

// MouseMoved is part of desktop.Hoverable.
func (r *connRow) MouseMoved(*desktop.MouseEvent) {}

// MouseOut ends the hover light.
func (r *connRow) MouseOut() { r.hovered = false; r.paint() }

func (r *connRow) set(c connections.Connection, s State, selected bool) {
	r.name.SetText(c.Name)
	r.setTags(c.Tags)
	r.dest.setFull(c.Destination)
	r.cfgAddr = c.ListenAddr
	r.setSelected(selected)
	r.update(s)
}

// setTags shows one chip per tag, rebuilt only when the tags change.
func (r *connRow) setTags(tags []string) {
	if len(tags) == len(r.tags.Objects) {
		same := true
		for i, t := range tags {
			same = same && r.tags.Objects[i].(*tagChip).text.Text == t
		}
		if same {
			return
		}
	}
	objs := make([]fyne.CanvasObject, len(tags))
	for i, t := range tags {
		objs[i] = newTagChip(t)
	}
	r.tags.Objects = objs
	r.tags.Refresh()
}

// tagNames are the chips' texts, in order.
func (r *connRow) tagNames() []string {
	out := make([]string, len(r.tags.Objects))
	for i, o := range r.tags.Objects {
		out[i] = o.(*tagChip).text.Text
	}
	return out
}

func (r *connRow) update(s State) {
	if text := s.Short(); text != r.status.Text {
		r.status.SetText(text)
		if r.line != nil {
			r.right.Refresh()
			r.line.Refresh()
		}
	}
	addr := s.Addr
	if addr == "" {
		addr = r.cfgAddr
	}
	if addr == "" {
		addr = "auto port"
	}
	r.listen.SetText(addr)
	if k := dotKind(s); k != r.kind {
		r.kind = k
		r.dot.FillColor = dotColor(k)
		r.dot.Refresh()
	}
	if u, err := url.Parse(s.SignInURL); s.SignInURL != "" && err == nil {
		r.signIn.SetURL(u)
		r.status.Hide()
		r.signIn.Show()
	} else {
		r.signIn.URL = nil
		r.signIn.Hide()
		r.status.Show()
	}
	imp := widget.MediumImportance
	switch {
	case s.Err != nil && s.Active == 0 && s.SignInURL == "":
		imp = widget.DangerImportance
	case s.Running:
		imp = widget.SuccessImportance
	}
	if r.status.Importance != imp {
		r.status.Importance = imp
		r.status.Refresh()
	}
	if r.toggle.Checked != s.Running {
		r.syncing = true
		r.toggle.SetChecked(s.Running)
		r.syncing = false
	}
}

func (r *connRow) setSelected(on bool) { r.selected = on; r.paint() }

// paint shows the selection, else the hover light, else nothing.
func (r *connRow) paint() {
	show := func(o fyne.CanvasObject, on bool) {
		if on != o.Visible() {
			if on {
				o.Show()
			} else {
				o.Hide()
			}
		}
	}
	show(r.bg, r.selected)
	show(r.hoverBg, r.hovered && !r.selected)
}

// tagChip is a tag drawn as a small rounded chip.
type tagChip struct {
	widget.BaseWidget
	text *canvas.Text
	bg   *canvas.Rectangle
}

func newTagChip(tag string) *tagChip {
	c := &tagChip{text: canvas.NewText(tag, theme.Color(theme.ColorNameForeground)), bg: canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))}
	c.text.TextSize = theme.CaptionTextSize()
	c.bg.CornerRadius = 6
	c.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	c.bg.StrokeWidth = 1
	c.ExtendBaseWidget(c)
	return c
}

func (c *tagChip) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(c.bg, container.New(chipPad{}, c.text)))
}

// chipPad pads a chip's text: 6 across, 2 down.
type chipPad struct{}

func (chipPad) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return objs[0].MinSize().Add(fyne.NewSize(12, 4))
}

func (chipPad) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Move(fyne.NewPos(6, 2))
	objs[0].Resize(size.Subtract(fyne.NewSize(12, 4)))
}
