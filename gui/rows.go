package gui

import (
	"fmt"
	"net/url"
	"strings"

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
	w      *MainWindow
	id     string
	dot    *canvas.Circle
	kind   string // the dot's kind (dotOff, ...)
	name   *widget.Label
	tags   *fyne.Container // one tagChip per tag
	dest   *midLabel
	listen *widget.Label
	status *widget.Label // statusFull or, when room is short, statusBrief
	more   *tagChip      // "+N": the tags, when there is no room for each
	// statusFull is State.Short ("2 active · ↑1.2 MiB ↓40 KiB"),
	// statusBrief the same without counters or cause ("2 active", "error").
	statusFull, statusBrief string
	isErr                   bool
	cfgAddr                 string            // the saved local address, shown while off
	signIn                  *widget.Hyperlink // replaces the status while a sign-in waits
	toggle                  *widget.Check
	bg                      *canvas.Rectangle // selection
	hoverBg                 *canvas.Rectangle
	// syncing is set while the switch is moved to match the state, so
	// that move is not taken for the user's.
	syncing  bool
	selected bool
	hovered  bool
	// line is laid out again when the status's width changes.
	line *fyne.Container
}

// listenSample is the longest usual local address: the local address
// column is as wide as it is in the monospace font (longer ones end in
// "…", the detail pane has them whole).
const listenSample = "127.0.0.1:65535"

// listenWidth is the local address column's width.
func listenWidth() float32 { return labelWidth(listenSample, fyne.TextStyle{Monospace: true}) }

// statusMax caps the status column ("12 active · ↑99.9 MiB ↓99.9 MiB"
// fits); a longer status (an error) ends in "…" and is whole in the
// detail pane.
const statusMax = 240

// errorMin is the narrowest an error is shown in: below it the status is
// just "error" (the detail pane says which).
const errorMin = 140

// nameMax caps the name column; a longer name ends in "…".
const nameMax = 200

// rowLayout budgets a row's width. Fixed: the dot, the name, the local
// address and the switch. The destination never gets less than its
// floor (the route's host:port, "…echo.internal:7000"). What is left goes
// to the status whole with each tag chip, else with one "+N" chip, else
// without tags (live counters matter more; the detail pane lists the
// tags); then to an error cut with "…" (at least errorMin); else to the
// brief status ("1 active", "error": the detail pane has the counters and
// the cause). The destination takes the rest.
type rowLayout struct{ r *connRow }

// Objects, in order: dot, name, tags, more, dest, listen, status, toggle.
const (
	rlDot = iota
	rlName
	rlTags
	rlMore
	rlDest
	rlListen
	rlStatus
	rlToggle
)

// plan is one row's column widths; 0 hides a part.
type rowPlan struct {
	name, tags, more, dest, listen, status, toggle float32
	brief                                          bool // the status shows its brief text
}

func (l rowLayout) plan(width float32) rowPlan {
	r := l.r
	gap := theme.Padding()
	p := rowPlan{
		name:   min(labelWidth(r.name.Text, r.name.TextStyle), nameMax),
		listen: listenWidth(),
		toggle: r.toggle.MinSize().Width,
	}
	full, brief := l.statusWidths()
	tagsFull, more := float32(0), float32(0)
	if len(r.tags.Objects) > 0 {
		tagsFull, more = r.tags.MinSize().Width+gap, r.more.MinSize().Width+gap
	}
	floor := r.dest.floor()
	rest := width - (2*gap + dotSize + gap + p.name + p.listen + gap + gap + p.toggle)
	switch room := rest - floor; {
	case room >= full+tagsFull:
		p.status, p.tags = full, tagsFull
	case room >= full+more:
		p.status, p.more = full, more
	case room >= full && !r.isError():
		p.status = full // live counters before the tags (the detail pane lists them)
	case r.isError() && room >= errorMin+more:
		p.status, p.more = min(full, room-more), more
	case room >= brief+more:
		p.status, p.more, p.brief = brief, more, true
	default:
		p.status, p.brief = brief, true
	}
	if p.brief && r.isError() && rest-floor-p.more >= errorMin {
		p.status, p.brief = min(full, rest-floor-p.more), false
	}
	if p.more > 0 && len(r.tags.Objects) == 1 && tagsFull <= p.more+2*gap {
		p.tags, p.more = tagsFull, 0 // "+1" would hide a tag to save nothing
	}
	p.dest = max(rest-p.status-p.tags-p.more, 0)
	return p
}

// statusWidths are the widths of the whole status and of its brief text.
func (l rowLayout) statusWidths() (full, brief float32) {
	r := l.r
	if r.signIn.Visible() {
		w := min(r.signIn.MinSize().Width, statusMax)
		return w, w
	}
	return min(labelWidth(r.statusFull, r.status.TextStyle), statusMax), labelWidth(r.statusBrief, r.status.TextStyle)
}

const dotSize = 10

func (l rowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	r := l.r
	gap := theme.Padding()
	_, brief := l.statusWidths()
	w := 2*gap + dotSize + gap + min(labelWidth(r.name.Text, r.name.TextStyle), nameMax) + r.dest.floor() +
		listenWidth() + gap + brief + gap + r.toggle.MinSize().Width
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(w, h)
}

func (l rowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	r := l.r
	p := l.plan(size.Width)
	text := r.statusFull
	if p.brief {
		text = r.statusBrief
	}
	if r.status.Text != text {
		r.status.SetText(text)
	}
	gap := theme.Padding()
	x := 2 * gap
	place := func(i int, w float32, fill bool) {
		o := objs[i]
		if w <= 0 {
			o.Hide()
			return
		}
		if i != rlStatus { // the status stack shows the label or the link
			o.Show()
		}
		h := size.Height
		if !fill {
			h = min(o.MinSize().Height, size.Height)
		}
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		o.Resize(fyne.NewSize(w, h))
		x += w
	}
	place(rlDot, dotSize, false)
	x += gap
	place(rlName, p.name, true)
	place(rlTags, p.tags-gap, false)
	if p.tags > 0 {
		x += gap
	}
	place(rlMore, p.more-gap, false)
	if p.more > 0 {
		x += gap
	}
	place(rlDest, p.dest, true)
	place(rlListen, p.listen, true)
	x += gap
	place(rlStatus, p.status, true)
	x += gap
	place(rlToggle, p.toggle, true)
}

// statusStack shows the status label or, while a sign-in waits, the link.
type statusStack struct{}

func (statusStack) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(0, 0)
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

func (statusStack) Layout(objs []fyne.CanvasObject, size fyne.Size) {
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
		more:    newTagChip(""),
	}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.more.Hide()
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
	dot := container.NewGridWrap(fyne.NewSize(dotSize, dotSize), r.dot)
	status := container.New(statusStack{}, r.status, r.signIn)
	r.line = container.New(rowLayout{r}, dot, r.name, r.tags, r.more, r.dest, r.listen, status, r.toggle)
	return widget.NewSimpleRenderer(container.NewStack(r.hoverBg, r.bg, container.NewVBox(r.line, widget.NewSeparator())))
}

func (r *connRow) isError() bool { return r.isErr }

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
	r.more.text.Text = fmt.Sprintf("+%d", len(tags))
	r.more.Refresh()
	if r.line != nil {
		r.line.Refresh()
	}
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
	if full, brief := s.Short(), briefStatus(s); full != r.statusFull || brief != r.statusBrief {
		r.statusFull, r.statusBrief, r.isErr = full, brief, isErrorStatus(s)
		r.status.SetText(full)
		if r.line != nil {
			r.line.Refresh() // the layout picks full or brief
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

// briefStatus is State.Short without the counters or the error's cause,
// for a row short of room.
func briefStatus(s State) string {
	full := s.Short()
	if isErrorStatus(s) {
		return "error"
	}
	if i := strings.Index(full, " · "); i >= 0 {
		return full[:i]
	}
	return full
}

// isErrorStatus reports whether State.Short is an error.
func isErrorStatus(s State) bool {
	return s.SignInURL == "" && s.Err != nil && (!s.Running || !s.Starting && s.Active == 0)
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
