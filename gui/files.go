package gui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/internal/bounded"
)

// FileChooser picks a file to read or write. done gets "" when the user
// cancels. Fyne's dialogs are the real one; tests answer with a path.
type FileChooser interface {
	Open(parent fyne.Window, done func(path string))
	Save(parent fyne.Window, suggested string, done func(path string))
}

// fyneFiles uses Fyne's file dialogs.
type fyneFiles struct{}

func (fyneFiles) Open(parent fyne.Window, done func(string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			done("")
			return
		}
		_ = r.Close()
		done(r.URI().Path())
	}, parent)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

func (fyneFiles) Save(parent fyne.Window, suggested string, done func(string)) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			done("")
			return
		}
		_ = w.Close()
		done(w.URI().Path())
	}, parent)
	d.SetFileName(suggested)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

// importFile imports connections from an export file (ours or Pomerium
// Desktop's). Importing the same file again adds nothing.
func (w *MainWindow) importFile() {
	w.files.Open(w.win, func(path string) {
		if path == "" {
			return
		}
		if err := w.importFrom(path); err != nil {
			w.showError(err)
		}
	})
}

func (w *MainWindow) importFrom(path string) error {
	b, err := bounded.ReadFile(path, connections.MaxFileBytes)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	list, format, err := connections.Decode(b)
	if err != nil {
		return fmt.Errorf("importing %s: %w", path, err)
	}
	home, _ := os.UserHomeDir()
	risks, err := w.ctrl.Store.ImportRisks(list, home)
	if err != nil {
		return fmt.Errorf("importing %s: %w", path, err)
	}
	if len(risks) > 0 {
		w.confirmRiskyImport(filepath.Base(path), risks, func() {
			if err := w.saveImport(path, format, list); err != nil {
				w.showError(err)
			}
		})
		return nil
	}
	return w.saveImport(path, format, list)
}

// confirmRiskyImport shows what an import newly sets that deserves a
// look (a listener open to the network, autostart, key files outside
// home) and runs save only when the user says Import.
func (w *MainWindow) confirmRiskyImport(what string, risks []connections.NamedRisk, save func()) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s sets things that deserve a look before saving:\n", what)
	for _, r := range risks {
		fmt.Fprintf(&b, "\n• %s: %s", r.Name, r.Risk)
	}
	msg := widget.NewLabel(b.String())
	msg.Wrapping = fyne.TextWrapWord
	w.lastInfo = b.String()
	d := dialog.NewCustomConfirm("Look before importing", "Import", "Cancel", msg, func(ok bool) {
		w.confirm = nil
		if ok {
			save()
		}
	}, w.win)
	d.SetConfirmImportance(widget.WarningImportance)
	w.confirm = d
	d.Resize(fyne.NewSize(520, 260))
	d.Show()
}

func (w *MainWindow) saveImport(path string, format connections.Format, list []connections.Connection) error {
	res, err := w.ctrl.Store.Import(list)
	if err != nil {
		return fmt.Errorf("importing %s: %w", path, err)
	}
	if err := w.ctrl.Load(); err != nil {
		return err
	}
	msg := fmt.Sprintf("Imported %s (%s format): %d added, %d updated, %d unchanged.", filepath.Base(path), format, res.Added, res.Updated, res.Unchanged)
	if len(res.Warnings) > 0 {
		msg += "\n" + strings.Join(res.Warnings, "\n")
	}
	w.showInfo("Import", msg)
	return nil
}

// exportForm asks what to export: format, the shown group or all, and
// whether private keys go along.
type exportForm struct {
	w       *MainWindow
	format  *widget.RadioGroup
	scope   *widget.RadioGroup
	secrets *widget.Check
	saveBtn *widget.Button
	dlg     dialog.Dialog
}

const (
	formatPortholeLabel = "Porthole (pomerium-cli connections)"
	formatDesktopLabel  = "Pomerium Desktop"
	scopeAllLabel       = "All connections"
	scopeShownLabel     = "Only the connections shown"
)

func (w *MainWindow) openExport() {
	e := &exportForm{w: w}
	e.format = widget.NewRadioGroup([]string{formatPortholeLabel, formatDesktopLabel}, nil)
	e.format.SetSelected(formatPortholeLabel)
	e.format.Required = true
	e.scope = widget.NewRadioGroup([]string{scopeAllLabel, scopeShownLabel}, nil)
	e.scope.SetSelected(scopeAllLabel)
	e.scope.Required = true
	e.secrets = widget.NewCheck("Include private keys (keep the file secret)", nil)
	e.saveBtn = widget.NewButton("Save as…", e.choose)
	e.saveBtn.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", e.close)
	content := container.NewVBox(
		widget.NewForm(widget.NewFormItem("Format", e.format), widget.NewFormItem("Which", e.scope), widget.NewFormItem("", e.secrets)),
		container.NewHBox(layoutSpacer(), cancel, e.saveBtn))
	e.dlg = dialog.NewCustomWithoutButtons("Export connections", content, w.win)
	w.exporter = e
	e.dlg.Show()
}

func (e *exportForm) choose() {
	e.close()
	e.w.files.Save(e.w.win, "connections.json", func(path string) {
		if path == "" {
			return
		}
		if err := e.exportTo(path); err != nil {
			e.w.showError(err)
			return
		}
		e.w.lastInfo = "Exported to " + path
	})
}

func (e *exportForm) exportTo(path string) error {
	list := e.w.ctrl.Connections()
	if e.scope.Selected == scopeShownLabel {
		list = e.w.shown
	}
	opts := connections.ExportOptions{Format: connections.FormatPorthole, IncludeSecrets: e.secrets.Checked}
	if e.format.Selected == formatDesktopLabel {
		opts.Format = connections.FormatPomeriumDesktop
	}
	return connections.WriteExport(path, list, opts)
}

func (e *exportForm) close() {
	e.dlg.Hide()
	if e.w.exporter == e {
		e.w.exporter = nil
	}
}

// exportLog saves a connection's log (newest first) as text.
func (w *MainWindow) exportLog(id string) {
	c, ok := w.ctrl.Connection(id)
	if !ok {
		return
	}
	w.files.Save(w.win, safeFileName(c.Name)+".log", func(path string) {
		if path == "" {
			return
		}
		var buf bytes.Buffer
		if err := w.ctrl.WriteLog(id, &buf); err != nil {
			w.showError(err)
			return
		}
		if err := atomicfile.Write(path, buf.Bytes(), 0o600); err != nil {
			w.showError(err)
		}
	})
}

func safeFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "connection"
	}
	return s
}
