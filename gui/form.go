package gui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// connForm is the add/edit dialog. Each field has its message right
// under it; Save stays disabled while the connection is not valid.
type connForm struct {
	w    *MainWindow
	base connections.Connection

	name, dest, listen, pomeriumURL, tags, caFile *widget.Entry
	caPEM, clientCertFile, clientKeyFile          *widget.Entry
	skipVerify, autostart                         *widget.Check
	protocol                                      *widget.RadioGroup
	errs                                          map[string]*widget.Label
	touched                                       map[string]bool
	save, cancel                                  *widget.Button
	dlg                                           dialog.Dialog
	advanced                                      *widget.Accordion
	browseBtns                                    []*widget.Button // CA file, client cert, client key
	route                                         *widget.Select   // a known portal route
}

// Protocol choices of the form.
const (
	protoTCP = "TCP"
	protoUDP = "UDP"
)

// openForm shows the form for c (a new connection when c.ID is empty).
func (w *MainWindow) openForm(c connections.Connection, title string) {
	f := &connForm{w: w, base: c, errs: map[string]*widget.Label{}, touched: map[string]bool{}}
	entry := func(field, text, placeholder string) *widget.Entry {
		e := widget.NewEntry()
		e.SetText(text)
		e.SetPlaceHolder(placeholder)
		e.OnChanged = func(string) {
			if field != "" {
				f.touched[field] = true
			}
			// Cert and key go together: the one still missing is what to fix.
			if field == fieldClientCert || field == fieldClientKey {
				f.touched[fieldClientCert], f.touched[fieldClientKey] = true, true
			}
			f.validate()
		}
		return e
	}
	f.name = entry(connections.FieldName, c.Name, "postgres (prod)")
	f.dest = entry(connections.FieldDestination, c.Destination, "tcp+https://proxy.example.com/db.internal:5432")
	f.listen = entry(connections.FieldListenAddr, c.ListenAddr, "blank: pick a free port; or 127.0.0.1:5432")
	f.pomeriumURL = entry(connections.FieldPomeriumURL, c.PomeriumURL, "optional: https://proxy.example.com")
	f.tags = entry("", strings.Join(c.Tags, ", "), "comma-separated: prod, db")
	f.caFile = entry(connections.FieldTLS, c.TLS.CAFile, "optional: PEM file of CAs to trust")
	f.caPEM = entry(fieldCACert, c.TLS.CACert, "optional: -----BEGIN CERTIFICATE----- … (or base64 of PEM)")
	f.caPEM.MultiLine = true
	f.caPEM.Wrapping = fyne.TextWrapOff
	f.caPEM.SetMinRowsVisible(4)
	f.clientCertFile = entry(fieldClientCert, c.TLS.ClientCertFile, inlineHint(c.TLS.ClientCert, "optional: PEM file of a client certificate"))
	f.clientKeyFile = entry(fieldClientKey, c.TLS.ClientKeyFile, inlineHint(c.TLS.ClientKey, "optional: PEM file of its private key"))
	f.skipVerify = widget.NewCheck("Skip TLS verification (insecure)", func(bool) { f.validate() })
	f.skipVerify.Checked = c.TLS.DisableVerification
	f.protocol = widget.NewRadioGroup([]string{protoTCP, protoUDP}, func(string) { f.validate() })
	f.protocol.Horizontal = true
	f.protocol.Required = true
	f.protocol.Selected = protoTCP
	if c.UDP() {
		f.protocol.Selected = protoUDP
	}
	f.autostart = widget.NewCheck("Start at launch", nil)
	f.autostart.Checked = c.Autostart

	field := func(name string, e fyne.CanvasObject) fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Importance = widget.DangerImportance
		l.Wrapping = fyne.TextWrapWord
		l.Hide()
		f.errs[name] = l
		return container.NewVBox(e, l)
	}
	// Essentials first; TLS and the Pomerium URL fold under Advanced,
	// open when the connection uses them or one of them is wrong.
	essentials := widget.NewForm(
		widget.NewFormItem("Name", field(connections.FieldName, f.name)),
		widget.NewFormItem("Protocol", field(connections.FieldProtocol, f.protocol)),
		widget.NewFormItem("Route", f.routeChoice()),
		widget.NewFormItem("Destination", field(connections.FieldDestination, f.dest)),
		widget.NewFormItem("Local address", field(connections.FieldListenAddr, f.listen)),
		widget.NewFormItem("Tags", f.tags),
		widget.NewFormItem("", f.autostart),
	)
	advanced := widget.NewForm(
		widget.NewFormItem("Pomerium URL", field(connections.FieldPomeriumURL, f.pomeriumURL)),
		widget.NewFormItem("CA file", field(connections.FieldTLS, f.browse(f.caFile))),
		widget.NewFormItem("CA certificate", field(fieldCACert, f.caPEM)),
		widget.NewFormItem("Client certificate", field(fieldClientCert, f.browse(f.clientCertFile))),
		widget.NewFormItem("Client key", field(fieldClientKey, f.browse(f.clientKeyFile))),
		widget.NewFormItem("", f.skipVerify),
	)
	f.advanced = widget.NewAccordion(widget.NewAccordionItem("Advanced: TLS, Pomerium URL", advanced))
	if c.PomeriumURL != "" || c.TLS != (tlsconfig.Options{}) {
		f.advanced.Open(0)
	}
	form := container.NewVBox(essentials, f.advanced)
	f.save = widget.NewButton("Save", f.submit)
	f.save.Importance = widget.HighImportance
	f.cancel = widget.NewButton("Cancel", func() { f.close() })
	buttons := container.NewHBox(layoutSpacer(), f.cancel, f.save)
	f.dlg = dialog.NewCustomWithoutButtons(title, container.NewBorder(nil, buttons, nil, nil, container.NewVScroll(form)), w.win)
	f.dlg.Resize(fyne.NewSize(680, 720))
	w.form = f
	f.validate()
	f.dlg.Show()
	w.win.Canvas().Focus(f.name)
}

// value is the connection as the fields say.
func (f *connForm) value() connections.Connection {
	c := f.base
	c.Name = f.name.Text
	c.Destination = f.dest.Text
	c.Protocol = connections.ProtocolTCP
	if f.protocol.Selected == protoUDP {
		c.Protocol = connections.ProtocolUDP
	}
	c.ListenAddr = f.listen.Text
	c.PomeriumURL = f.pomeriumURL.Text
	c.Tags = splitTags(f.tags.Text)
	c.TLS.CAFile = strings.TrimSpace(f.caFile.Text)
	c.TLS.CACert = strings.TrimSpace(f.caPEM.Text)
	c.TLS.ClientCertFile = strings.TrimSpace(f.clientCertFile.Text)
	c.TLS.ClientKeyFile = strings.TrimSpace(f.clientKeyFile.Text)
	// A file typed here replaces an inline PEM saved by an import.
	if c.TLS.ClientCertFile != "" {
		c.TLS.ClientCert = ""
	}
	if c.TLS.ClientKeyFile != "" {
		c.TLS.ClientKey = ""
	}
	c.TLS.DisableVerification = f.skipVerify.Checked
	c.Autostart = f.autostart.Checked
	return c
}

// validate shows the problem next to its field (once the user has typed
// in it) and enables Save only for a valid connection.
func (f *connForm) validate() error {
	err := validateForm(f.value())
	f.showErr(err, false)
	if err != nil {
		f.save.Disable()
	} else {
		f.save.Enable()
	}
	return err
}

func (f *connForm) showErr(err error, all bool) {
	for _, l := range f.errs {
		l.SetText("")
		l.Hide()
	}
	var fe *connections.FieldError
	if errors.As(err, &fe) {
		if l := f.errs[fe.Field]; l != nil && (all || f.touched[fe.Field] || f.base.ID != "") {
			l.SetText(fe.Err.Error())
			l.Show()
			if advancedField[fe.Field] && f.advanced != nil {
				f.advanced.Open(0)
			}
		}
	}
}

// submit saves, refusing an invalid connection (its message stays shown).
func (f *connForm) submit() {
	if err := f.validate(); err != nil {
		f.showErr(err, true)
		return
	}
	c := f.value()
	tlsOpts, err := c.TLS.Abs() // the CLI may use it from another directory
	if err != nil {
		f.w.showError(err)
		return
	}
	c.TLS = tlsOpts
	saved, err := f.w.ctrl.Save(c)
	if err != nil {
		var fe *connections.FieldError
		if errors.As(err, &fe) {
			f.showErr(err, true)
			return
		}
		f.w.showError(err)
		return
	}
	f.close()
	f.w.selectConn(saved.ID)
	// A running connection picks up its new settings by restarting.
	if f.base.ID != "" && f.w.ctrl.Running(saved.ID) {
		f.w.ctrl.Stop(saved.ID)
		go func() { _ = f.w.ctrl.Start(saved.ID) }() // errors show in the row
	}
}

func (f *connForm) close() {
	f.dlg.Hide()
	if f.w.form == f {
		f.w.form = nil
	}
}

func splitTags(s string) []string {
	return connections.NormalizeTags(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }))
}

// advancedField: the fields under Advanced.
var advancedField = map[string]bool{connections.FieldPomeriumURL: true, connections.FieldTLS: true, fieldCACert: true, fieldClientCert: true, fieldClientKey: true}

// browse puts a Browse… button beside a file entry; the chosen path
// replaces the entry's text (and validates like typing).
func (f *connForm) browse(e *widget.Entry) fyne.CanvasObject {
	b := widget.NewButton("Browse…", func() {
		f.w.files.Open(f.w.win, func(path string) {
			if path != "" {
				e.SetText(path)
			}
		})
	})
	f.browseBtns = append(f.browseBtns, b)
	return container.NewBorder(nil, nil, nil, b, e)
}
