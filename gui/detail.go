package gui

import (
	"fmt"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/internal/bytesize"
)

// detailPanel shows the selected connection: settings, status with the
// live counters, an error in plain words with its fix (the raw error
// folded under "Technical details"), the sign-in link while a sign-in
// waits, actions, and its log. The on/off switch is the row's only.
type detailPanel struct {
	w  *MainWindow
	id string

	title     *widget.Label
	dest      *widget.Label
	listen    *widget.Label
	tags      *widget.Label
	source    *widget.Label
	status    *widget.Label // State.Text
	traffic   *widget.Label // "2 open, 5 in all · sent 1.2 MiB · received 40 KiB"
	fix       *widget.Label // the error's hint
	raw       *widget.Label // the error's Go chain
	rawFold   *widget.Accordion
	signIn    *widget.Hyperlink
	signInBox *fyne.Container

	editBtn, dupBtn, deleteBtn, copyAddrBtn *widget.Button
	copyCmdBtn, exportLogBtn                *widget.Button

	log     *logView
	entries []LogEntry // newest first

	box  fyne.CanvasObject
	body *fyne.Container
	none *widget.Label
}

func newDetailPanel(w *MainWindow) *detailPanel {
	d := &detailPanel{w: w,
		title:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		dest:    widget.NewLabel(""),
		listen:  widget.NewLabel(""),
		tags:    widget.NewLabel(""),
		source:  widget.NewLabel(""),
		status:  widget.NewLabel(""),
		traffic: widget.NewLabel(""),
		fix:     widget.NewLabel(""),
		raw:     widget.NewLabel(""),
		none:    widget.NewLabel("Select a connection."),
	}
	for _, l := range []*widget.Label{d.dest, d.source, d.raw} {
		l.Wrapping = fyne.TextWrapBreak // URLs and error chains
	}
	for _, l := range []*widget.Label{d.listen, d.tags, d.status, d.traffic, d.fix} {
		l.Wrapping = fyne.TextWrapWord
	}
	d.raw.TextStyle = fyne.TextStyle{Monospace: true}
	d.rawFold = widget.NewAccordion(widget.NewAccordionItem("Technical details", d.raw))
	d.signIn = widget.NewHyperlink("Open the sign-in page", nil)
	d.signIn.OnTapped = func() {
		if d.signIn.URL != nil {
			_ = w.app.OpenURL(d.signIn.URL)
		}
	}
	d.signInBox = container.NewVBox(widget.NewLabel("Waiting for you to sign in:"), d.signIn)
	d.signInBox.Hide()
	d.editBtn = widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), func() {
		if c, ok := w.ctrl.Connection(d.id); ok {
			w.openForm(c, "Edit connection")
		}
	})
	d.dupBtn = widget.NewButtonWithIcon("Duplicate", theme.ContentCopyIcon(), func() { w.duplicate(d.id) })
	d.deleteBtn = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), func() { w.confirmDelete(d.id) })
	d.deleteBtn.Importance = widget.DangerImportance
	d.copyAddrBtn = widget.NewButtonWithIcon("Copy local address", theme.ContentPasteIcon(), func() { w.copyAddress(d.id) })
	d.copyCmdBtn = widget.NewButtonWithIcon("Copy command", theme.ComputerIcon(), func() { w.copyCommand(d.id) })
	d.exportLogBtn = widget.NewButtonWithIcon("Export log…", theme.DocumentSaveIcon(), func() { w.exportLog(d.id) })
	d.log = newLogView()

	form := widget.NewForm(
		widget.NewFormItem("Destination", d.dest),
		widget.NewFormItem("Local address", d.listen),
		widget.NewFormItem("Tags", d.tags),
		widget.NewFormItem("Imported from", d.source),
		widget.NewFormItem("Status", container.NewVBox(d.status, d.fix, d.rawFold)),
		widget.NewFormItem("Traffic", d.traffic),
	)
	actions := container.New(twoColumns{}, d.editBtn, d.dupBtn, d.copyAddrBtn, d.copyCmdBtn, d.deleteBtn)
	logHead := widget.NewLabelWithStyle("Log (newest first)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	// Settings and actions scroll on their own above the log, so a short
	// window keeps both reachable.
	top := container.NewVScroll(container.NewVBox(d.title, form, d.signInBox, actions))
	logPane := container.NewBorder(container.NewBorder(nil, nil, logHead, d.exportLogBtn), nil, nil, nil, d.log)
	split := container.NewVSplit(top, logPane)
	split.Offset = 0.55
	d.body = container.NewStack(split)
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
	d.title.SetText(c.Name)
	d.dest.SetText(c.Destination)
	d.tags.SetText(orDash(strings.Join(c.Tags, ", ")))
	src := "—"
	if c.Source != nil {
		src = c.Source.PortalURL
	}
	d.source.SetText(src)
	d.showState(d.w.ctrl.State(id))
	d.entries = d.w.ctrl.Log(id)
	d.log.set(d.entries)
}

// showState renders what changes while the connection runs: the local
// address, status, error, counters and the sign-in link.
func (d *detailPanel) showState(s State) {
	listen := ""
	if c, ok := d.w.ctrl.Connection(d.id); ok {
		listen = c.ListenAddr
	}
	if s.Addr != "" {
		listen = s.Addr
	} else if listen == "" {
		listen = "a free port, picked when it starts"
	}
	d.listen.SetText(listen)
	d.status.SetText(s.Text())
	summary, hint := "", ""
	if s.Err != nil && strings.HasPrefix(s.Text(), "error: ") {
		summary, hint = plainError(s.Err)
	}
	setShown(d.fix, hint != "", "Fix: "+hint)
	raw := ""
	if s.Err != nil && summary != "" {
		raw = s.Err.Error()
	}
	if raw == summary { // nothing more to disclose
		raw = ""
	}
	d.raw.SetText(raw)
	if raw == "" {
		d.rawFold.CloseAll()
		d.rawFold.Hide()
	} else {
		d.rawFold.Show()
	}
	d.traffic.SetText(trafficDetail(s))
	if u, err := url.Parse(s.SignInURL); s.SignInURL != "" && err == nil {
		d.signIn.SetURL(u)
		d.signIn.SetText(s.SignInURL)
		d.signInBox.Show()
	} else {
		d.signIn.URL = nil
		d.signInBox.Hide()
	}
}

// trafficDetail is the detail pane's counters line.
func trafficDetail(s State) string {
	if !s.Running {
		return "—"
	}
	st := s.Traffic
	return fmt.Sprintf("%d open, %d in all · sent %s · received %s", s.Active, st.Total, bytesize.Format(st.BytesSent), bytesize.Format(st.BytesReceived))
}

func setShown(l *widget.Label, on bool, text string) {
	if on {
		l.SetText(text)
		l.Show()
	} else {
		l.SetText("")
		l.Hide()
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
