package gui

import (
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/connections"
)

// connRow is one connection on one line: status dot, name, tags,
// destination shortened from the middle, local address, status and its
// on/off switch. Tapping it selects it.
type connRow struct {
	widget.BaseWidget
	w       *MainWindow
	id      string
	dot     *canvas.Circle
	kind    string // the dot's kind (dotOff, ...)
	name    *widget.Label
	tags    *widget.Label
	dest    *widget.Label
	listen  *widget.Label
	status  *widget.Label
	cfgAddr string            // the saved local address, shown while off
	signIn  *widget.Hyperlink // replaces the status while a sign-in waits
	toggle  *widget.Check
	bg      *canvas.Rectangle
	// syncing is set while the switch is moved to match the state, so
	// that move is not taken for the user's.
	syncing bool
}

func newConnRow(w *MainWindow, id string) *connRow {
	r := &connRow{w: w, id: id,
		name:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		tags:   widget.NewLabel(""),
		dest:   widget.NewLabel(""),
		listen: widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true}),
		status: widget.NewLabel(""),
		bg:     canvas.NewRectangle(theme.Color(theme.ColorNameSelection)),
		dot:    canvas.NewCircle(dotColor(dotOff)),
	}
	r.tags.Importance = widget.LowImportance
	r.dest.Truncation = fyne.TextTruncateEllipsis
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
	left := container.NewHBox(dot, r.name, r.tags)
	status := container.NewGridWrap(fyne.NewSize(130, r.status.MinSize().Height), container.NewStack(r.status, r.signIn))
	right := container.NewHBox(r.listen, status, r.toggle)
	line := container.NewBorder(nil, nil, left, right, r.dest)
	return widget.NewSimpleRenderer(container.NewStack(r.bg, container.NewVBox(line, widget.NewSeparator())))
}

// Tapped selects the row.
func (r *connRow) Tapped(*fyne.PointEvent) { r.w.selectConn(r.id) }

func (r *connRow) set(c connections.Connection, s State, selected bool) {
	r.name.SetText(c.Name)
	tags := ""
	if len(c.Tags) > 0 {
		tags = "#" + strings.Join(c.Tags, " #")
	}
	r.tags.SetText(tags)
	r.dest.SetText(shortenMiddle(c.Destination, destMaxRunes))
	r.cfgAddr = c.ListenAddr
	r.setSelected(selected)
	r.update(s)
}

func (r *connRow) update(s State) {
	r.status.SetText(s.Text())
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
	switch {
	case s.Err != nil && s.Active == 0 && s.SignInURL == "":
		r.status.Importance = widget.DangerImportance
	case s.Running:
		r.status.Importance = widget.SuccessImportance
	default:
		r.status.Importance = widget.MediumImportance
	}
	r.status.Refresh()
	if r.toggle.Checked != s.Running {
		r.syncing = true
		r.toggle.SetChecked(s.Running)
		r.syncing = false
	}
}

func (r *connRow) setSelected(on bool) {
	if on {
		r.bg.Show()
	} else {
		r.bg.Hide()
	}
	r.bg.Refresh()
}

// detailPanel shows the selected connection: settings, status, the
// sign-in link while a sign-in waits, actions, and its log.
type detailPanel struct {
	w  *MainWindow
	id string

	title     *widget.Label
	dest      *widget.Label
	listen    *widget.Label
	tags      *widget.Label
	source    *widget.Label
	status    *widget.Label
	signIn    *widget.Hyperlink
	signInBox *fyne.Container

	toggle                                  *widget.Check
	syncing                                 bool
	editBtn, dupBtn, deleteBtn, copyAddrBtn *widget.Button
	exportLogBtn                            *widget.Button

	logList *widget.List
	logHead *widget.Label // "Log, DATE (newest first)": lines show the time only
	entries []LogEntry

	box  fyne.CanvasObject
	body *fyne.Container
	none *widget.Label
}

func newDetailPanel(w *MainWindow) *detailPanel {
	d := &detailPanel{w: w,
		title:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		dest:   widget.NewLabel(""),
		listen: widget.NewLabel(""),
		tags:   widget.NewLabel(""),
		source: widget.NewLabel(""),
		status: widget.NewLabel(""),
		none:   widget.NewLabel("Select a connection."),
	}
	for _, l := range []*widget.Label{d.dest, d.listen, d.tags, d.source, d.status} {
		l.Wrapping = fyne.TextWrapBreak
	}
	d.signIn = widget.NewHyperlink("Open the sign-in page", nil)
	d.signIn.OnTapped = func() {
		if d.signIn.URL != nil {
			_ = w.app.OpenURL(d.signIn.URL)
		}
	}
	d.signInBox = container.NewVBox(widget.NewLabel("Waiting for you to sign in:"), d.signIn)
	d.signInBox.Hide()
	d.toggle = widget.NewCheck("Connected", func(on bool) {
		if d.id != "" && !d.syncing {
			w.setRunning(d.id, on)
		}
	})
	d.editBtn = widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), func() {
		if c, ok := w.ctrl.Connection(d.id); ok {
			w.openForm(c, "Edit connection")
		}
	})
	d.dupBtn = widget.NewButtonWithIcon("Duplicate", theme.ContentCopyIcon(), func() { w.duplicate(d.id) })
	d.deleteBtn = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), func() { w.confirmDelete(d.id) })
	d.deleteBtn.Importance = widget.DangerImportance
	d.copyAddrBtn = widget.NewButtonWithIcon("Copy local address", theme.ContentPasteIcon(), func() { w.copyAddress(d.id) })
	d.exportLogBtn = widget.NewButtonWithIcon("Export log", theme.DocumentSaveIcon(), func() { w.exportLog(d.id) })
	d.logList = widget.NewList(
		func() int { return len(d.entries) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("log")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(d.entries) {
				o.(*widget.Label).SetText(d.entries[i].Time.Format("15:04:05") + "  " + d.entries[i].Text)
			}
		})
	// A long line is cut in the list; selecting it shows it whole.
	d.logList.OnSelected = func(i widget.ListItemID) {
		if i < len(d.entries) {
			w.showInfo("Log line", d.entries[i].String())
		}
		d.logList.UnselectAll()
	}
	d.logHead = widget.NewLabelWithStyle("Log (newest first)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})

	form := widget.NewForm(
		widget.NewFormItem("Destination", d.dest),
		widget.NewFormItem("Local address", d.listen),
		widget.NewFormItem("Tags", d.tags),
		widget.NewFormItem("Imported from", d.source),
		widget.NewFormItem("Status", d.status),
	)
	actions := container.NewGridWithColumns(2, d.editBtn, d.dupBtn, d.copyAddrBtn, d.deleteBtn)
	top := container.NewVBox(container.NewBorder(nil, nil, nil, container.NewCenter(d.toggle), d.title), form, d.signInBox, actions,
		container.NewBorder(nil, nil, d.logHead, d.exportLogBtn))
	d.body = container.NewBorder(top, nil, nil, nil, d.logList)
	d.box = container.NewStack(d.none, d.body)
	d.body.Hide()
	return d
}

// show renders connection id ("" shows nothing).
func (d *detailPanel) show(id string) {
	d.id = id
	c, ok := d.w.ctrl.Connection(id)
	if !ok {
		d.id = ""
		d.body.Hide()
		d.none.Show()
		return
	}
	d.none.Hide()
	d.body.Show()
	s := d.w.ctrl.State(id)
	d.title.SetText(c.Name)
	d.dest.SetText(c.Destination)
	listen := c.ListenAddr
	if s.Addr != "" {
		listen = s.Addr
	} else if listen == "" {
		listen = "a free port, picked when it starts"
	}
	d.listen.SetText(listen)
	d.tags.SetText(orDash(strings.Join(c.Tags, ", ")))
	src := "—"
	if c.Source != nil {
		src = c.Source.PortalURL
	}
	d.source.SetText(src)
	d.status.SetText(s.Text())
	if s.Err != nil && strings.HasPrefix(s.Text(), "error: ") {
		d.status.SetText(errorDetail(s.Err))
	}
	if d.toggle.Checked != s.Running {
		d.syncing = true
		d.toggle.SetChecked(s.Running)
		d.syncing = false
	}
	if u, err := url.Parse(s.SignInURL); s.SignInURL != "" && err == nil {
		d.signIn.SetURL(u)
		d.signIn.SetText(s.SignInURL)
		d.signInBox.Show()
	} else {
		d.signIn.URL = nil
		d.signInBox.Hide()
	}
	d.entries = d.w.ctrl.Log(id)
	head := "Log (newest first)"
	if len(d.entries) > 0 {
		head = "Log, " + d.entries[0].Time.Format("Mon 2 Jan 2006") + " (newest first)"
	}
	d.logHead.SetText(head)
	d.logList.Refresh()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
