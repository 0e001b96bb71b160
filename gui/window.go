package gui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/connections"
)

// WindowTitle is the main window's title.
const WindowTitle = "Porthole"

// Options tune NewMainWindow; zero values pick the real thing.
type Options struct {
	// Do runs UI updates coming from other goroutines; nil is fyne.Do.
	// Tests queue them and run them on the test's goroutine.
	Do func(func())
	// Files picks files to open and save; nil uses Fyne's file dialogs.
	Files FileChooser
	// Portal fetches a portal's routes; nil uses portalclient.
	Portal RoutesFetcher
	// Autostart starts the connections marked "start at launch" once the
	// window is wired to the controller (in the background: opening a
	// listener may take a moment), so their failures show and notify.
	Autostart bool
	// TrayHost reports whether a system tray shows the tray menu; nil asks
	// the desktop (on Linux, the session bus). Closing the window hides it
	// to the tray only where there is one.
	TrayHost func() bool
	// ServersDir holds pomerium-cli's remembered servers (servers.json),
	// which pre-fill the portal import; "" is pomerium-cli's config dir.
	ServersDir string
	// CLICacheDir is pomerium-cli's cache dir, whose cached routes lists
	// offer routes in the add form; "" is pomerium-cli's default.
	CLICacheDir string
	// BeforeQuit is called before the app is asked to quit (from the
	// window, a shortcut or the tray); nil does nothing.
	BeforeQuit func()
	// StatsInterval is how often running connections' counters are
	// looked at; 0 is DefaultStatsInterval.
	StatsInterval time.Duration
}

// MainWindow is the "Porthole" window: tag groups and a filter on the
// left, the connections in the middle, the selected one's details and
// log on the right.
type MainWindow struct {
	app    fyne.App
	win    fyne.Window
	ctrl   *Controller
	do     func(func())
	files  FileChooser
	portal RoutesFetcher

	filter    *widget.Entry
	groupList *widget.List
	groups    []group
	current   group

	listBox *fyne.Container
	rows    map[string]*connRow
	shown   []connections.Connection
	empty   *widget.Label

	emptyBox                    *fyne.Container
	emptyPortalBtn, emptyAddBtn *widget.Button
	aboutBtn                    *widget.Button

	addBtn, portalBtn, importBtn, exportBtn *widget.Button
	connectAllBtn, disconnectAllBtn         *widget.Button

	detail   *detailPanel
	selected string
	// pickedSelection is set while the selection is the window's own pick
	// (no tap yet): a connection that starts then (at launch) takes it.
	pickedSelection bool

	form     *connForm     // the open add/edit form, if any
	importer *portalImport // the open portal import, if any
	exporter *exportForm   // the open export form, if any
	confirm  dialog.Dialog // the open delete or quit confirmation, if any
	lastInfo string        // the last message shown in a dialog

	tray     *trayMenu
	trayHost func() bool // whether closing can hide to a tray

	serversDir  string
	cliCacheDir string
	stats       *statsWatch
	beforeQuit  func()
	accounts    *accountsView
	changes     changeQueue
}

// NewMainWindow builds the window for ctrl (which it wires to itself) and
// loads the store. Show it with Window().Show().
func NewMainWindow(a fyne.App, ctrl *Controller, opts Options) *MainWindow {
	w := &MainWindow{app: a, ctrl: ctrl, do: opts.Do, files: opts.Files, portal: opts.Portal, rows: map[string]*connRow{}, serversDir: opts.ServersDir, cliCacheDir: opts.CLICacheDir, beforeQuit: opts.BeforeQuit}
	if w.do == nil {
		w.do = fyne.Do
	}
	if w.files == nil {
		w.files = fyneFiles{}
	}
	if w.portal == nil {
		w.portal = &portalFetcher{ctrl: ctrl}
	}
	w.stats = &statsWatch{w: w, interval: opts.StatsInterval}
	if w.stats.interval <= 0 {
		w.stats.interval = DefaultStatsInterval
	}
	w.win = a.NewWindow(WindowTitle)
	ctrl.OnChange = w.changed
	ctrl.OnNotify = notifier(a)
	ctrl.OnSignedIn = func() { w.do(w.accounts.reload) }

	w.build()
	if err := ctrl.Load(); err != nil {
		w.showError(err)
	}
	w.refresh("")
	w.tray = newTrayMenu(a, w, opts.TrayHost)
	w.win.Resize(fyne.NewSize(1100, 680))
	if opts.Autostart {
		go ctrl.StartAutostart()
	}
	return w
}

// Window is the Fyne window.
func (w *MainWindow) Window() fyne.Window { return w.win }

func (w *MainWindow) build() {
	w.filter = widget.NewEntry()
	w.filter.SetPlaceHolder(filterHint)
	w.filter.OnChanged = func(string) { w.refreshList() }

	w.groupList = widget.NewList(
		func() int { return len(w.groups) },
		func() fyne.CanvasObject { return widget.NewLabel("group") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(w.groups) {
				o.(*widget.Label).SetText(w.groups[i].Label())
			}
		})
	w.groupList.OnSelected = func(i widget.ListItemID) {
		if i < len(w.groups) && !w.groups[i].same(w.current) {
			w.current = w.groups[i]
			w.refreshList()
		}
	}

	w.addBtn = widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), func() { w.openForm(connections.Connection{}, "Add connection") })
	w.portalBtn = widget.NewButtonWithIcon("Import from portal", theme.DownloadIcon(), w.openPortalImport)
	w.importBtn = widget.NewButtonWithIcon("Import file", theme.FolderOpenIcon(), w.importFile)
	w.exportBtn = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), w.openExport)
	w.connectAllBtn = widget.NewButtonWithIcon("Connect all", theme.MediaPlayIcon(), w.connectAll)
	w.disconnectAllBtn = widget.NewButtonWithIcon("Disconnect all", theme.MediaStopIcon(), w.disconnectAll)
	w.aboutBtn = widget.NewButtonWithIcon("", theme.InfoIcon(), w.showAbout)
	toolbar := container.NewBorder(nil, nil, nil, w.aboutBtn,
		container.NewHBox(w.addBtn, w.portalBtn, w.importBtn, w.exportBtn, widget.NewSeparator(), w.connectAllBtn, w.disconnectAllBtn))

	heading := widget.NewLabelWithStyle("Groups", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.accounts = newAccountsView(w)
	sidebar := container.NewBorder(container.NewVBox(w.filter, heading), w.accounts.object(), nil, nil, w.groupList)
	w.accounts.relayout = sidebar.Refresh // the area grows as servers load
	// The sidebar is never narrower than its filter's hint, so the hint
	// reads whole however wide the rows want to be.
	sidebarBox := container.New(minWidth{sidebarMin()}, sidebar)

	w.listBox = container.NewVBox()
	list := container.NewVScroll(container.NewVBox(w.emptyState(), w.listBox))

	w.detail = newDetailPanel(w)
	right := container.NewHSplit(list, w.detail.box)
	right.Offset = listShare
	main := container.NewHSplit(sidebarBox, right)
	main.Offset = sidebarShare
	w.win.SetContent(container.NewBorder(toolbar, nil, nil, nil, main))
	w.addShortcuts()
}

// refresh updates what shows connection id ("" for everything).
func (w *MainWindow) refresh(id string) {
	w.stats.ensure()
	if id == "" {
		w.groups = groupsOf(w.ctrl.Connections())
		sel := 0
		for i, g := range w.groups {
			if g.same(w.current) {
				sel = i
			}
		}
		w.current = w.groups[sel]
		w.groupList.Refresh()
		w.groupList.Select(sel)
		w.refreshList()
		w.tray.refresh()
		w.accounts.reload()
		return
	}
	if r := w.rows[id]; r != nil {
		r.update(w.ctrl.State(id))
		if w.pickedSelection && id != w.selected && w.ctrl.Running(id) && !w.ctrl.Running(w.selected) {
			w.selectConn(id)
			w.pickedSelection = true
		}
	}
	if id == w.selected {
		w.detail.show(id)
	}
	w.updateBulk()
	w.tray.refresh()
}

// refreshList rebuilds the rows for the current group and filter.
func (w *MainWindow) refreshList() {
	w.shown = visible(w.ctrl.Connections(), w.current, w.filter.Text)
	rows := make(map[string]*connRow, len(w.shown))
	objs := make([]fyne.CanvasObject, 0, len(w.shown))
	for _, c := range w.shown {
		r := w.rows[c.ID]
		if r == nil {
			r = newConnRow(w, c.ID)
		}
		r.set(c, w.ctrl.State(c.ID), c.ID == w.selected)
		rows[c.ID] = r
		objs = append(objs, r)
	}
	w.rows = rows
	w.listBox.Objects = objs
	w.listBox.Refresh()
	if len(w.ctrl.Connections()) == 0 {
		w.emptyBox.Show()
	} else {
		w.emptyBox.Hide()
	}
	if _, ok := w.ctrl.Connection(w.selected); !ok {
		w.selected = ""
	}
	if w.selected == "" && len(w.shown) > 0 {
		// Prefer a running connection: that is what the user looks at.
		w.pickedSelection = true
		w.selected = w.shown[0].ID
		for _, c := range w.shown {
			if w.ctrl.Running(c.ID) {
				w.selected = c.ID
				break
			}
		}
		if r := w.rows[w.selected]; r != nil {
			r.setSelected(true)
		}
	}
	w.detail.show(w.selected)
	what := "Connect all"
	if w.current.Kind != groupAll {
		what = "Connect all in " + w.groupName()
	}
	w.connectAllBtn.SetText(what)
	w.updateBulk()
}

func (w *MainWindow) groupName() string {
	switch w.current.Kind {
	case groupTag:
		return w.current.Tag
	case groupUntagged:
		return "Untagged"
	}
	return "All"
}

// selectConn makes id the connection shown in the detail panel.
func (w *MainWindow) selectConn(id string) {
	if old := w.rows[w.selected]; old != nil {
		old.setSelected(false)
	}
	w.selected, w.pickedSelection = id, false
	if r := w.rows[id]; r != nil {
		r.setSelected(true)
	}
	w.detail.show(id)
}

// setRunning starts or stops a connection from a switch or menu. Start
// runs off the UI goroutine: opening a listener may take a moment.
func (w *MainWindow) setRunning(id string, on bool) {
	if on == w.ctrl.Running(id) {
		return
	}
	if on {
		go func() { _ = w.ctrl.Start(id) }() // errors show in the row
		return
	}
	w.ctrl.Stop(id)
}

// connectAll starts every connection shown (the group, filtered).
func (w *MainWindow) connectAll() {
	for _, c := range w.shown {
		w.setRunning(c.ID, true)
	}
}

func (w *MainWindow) disconnectAll() {
	for _, c := range w.shown {
		w.ctrl.Stop(c.ID)
	}
}

// confirmDelete asks before deleting a connection.
func (w *MainWindow) confirmDelete(id string) {
	c, ok := w.ctrl.Connection(id)
	if !ok {
		return
	}
	msg := widget.NewLabel(fmt.Sprintf("Delete %q (%s)? This cannot be undone.", c.Name, c.Destination))
	msg.Wrapping = fyne.TextWrapWord
	w.confirm = dialog.NewCustomConfirm("Delete connection", "Delete", "Cancel", msg, func(ok bool) {
		w.confirm = nil
		if ok {
			if err := w.ctrl.Delete(id); err != nil {
				w.showError(err)
			}
		}
	}, w.win)
	w.confirm.(*dialog.ConfirmDialog).SetConfirmImportance(widget.DangerImportance)
	w.confirm.Resize(fyne.NewSize(420, 180))
	w.confirm.Show()
}

func (w *MainWindow) duplicate(id string) {
	c, err := w.ctrl.Duplicate(id)
	if err != nil {
		w.showError(err)
		return
	}
	w.selectConn(c.ID)
}

// copyAddress puts the local address on the clipboard: the running one,
// else the configured one.
func (w *MainWindow) copyAddress(id string) {
	addr := w.ctrl.State(id).Addr
	if addr == "" {
		if c, ok := w.ctrl.Connection(id); ok {
			addr = c.ListenAddr
		}
	}
	if addr == "" {
		w.showInfo("No local address yet", "This connection picks a free port when it starts: switch it on first.")
		return
	}
	w.app.Clipboard().SetContent(addr)
}

func (w *MainWindow) showError(err error) {
	w.lastInfo = err.Error()
	dialog.ShowError(err, w.win)
}

func (w *MainWindow) showInfo(title, msg string) {
	w.lastInfo = msg
	dialog.ShowInformation(title, msg, w.win)
}

// notifier sends notifications from a goroutine of its own, in order: the
// controller calls it from tunnel goroutines, which must not wait on the
// desktop's notification service (a D-Bus round trip on Linux). A burst
// beyond the queue is dropped rather than stalling a connection.
func notifier(a fyne.App) func(title, body string) {
	q := make(chan *fyne.Notification, 16)
	go func() {
		for n := range q {
			a.SendNotification(n)
		}
	}()
	return func(title, body string) {
		select {
		case q <- fyne.NewNotification(title, body):
		default:
		}
	}
}

// filterHint is the filter's placeholder, short enough to read whole in
// the sidebar (the filter matches names, destinations and tags).
const filterHint = "Filter connections"

// The default split at 1100 px wide: a ~165 px sidebar, ~645 px for the
// rows (a connected row shows its counters and the route's host:port)
// and ~270 px for the details (the pane's narrowest).
const (
	sidebarShare = 0.15
	listShare    = 0.72
)

// sidebarMin is the sidebar's narrowest: its filter hint whole.
func sidebarMin() float32 {
	return max(labelWidth(filterHint, fyne.TextStyle{})+2*theme.InnerPadding(), 160)
}

// minWidth lays its one object out at least w wide.
type minWidth struct{ w float32 }

func (m minWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := objs[0].MinSize()
	return fyne.NewSize(max(s.Width, m.w), s.Height)
}

func (minWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(size)
}
