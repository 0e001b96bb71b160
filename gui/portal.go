package gui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/portalclient"
)

// RoutesFetcher fetches a portal's routes, signing in when needed.
type RoutesFetcher interface {
	Routes(ctx context.Context, portal *url.URL, opts tlsconfig.Options, notify func(signInURL string)) ([]portalclient.Route, error)
}

// portalFetcher is the real RoutesFetcher: portalclient with the
// controller's shared sign-in.
type portalFetcher struct{ ctrl *Controller }

func (p *portalFetcher) Routes(ctx context.Context, portal *url.URL, opts tlsconfig.Options, notify func(string)) ([]portalclient.Route, error) {
	cfg, err := opts.Config()
	if err != nil {
		return nil, fmt.Errorf("tls options: %w", err)
	}
	c := &portalclient.Client{HTTPClient: authflow.NewHTTPClient(cfg), Auth: p.ctrl.authFor(opts, cfg)}
	return c.Routes(ctx, portal, notify)
}

// portalImport is the "Import from portal" dialog: portal URL, tags and
// TLS options; then the portal's tcp routes with checkboxes and a preview
// of what would be added, updated and removed. Removing needs its own
// tick.
type portalImport struct {
	w *MainWindow

	portalURL, tags, caFile      *widget.Entry
	caPEM, clientCert, clientKey *widget.Entry
	skipVerify                   *widget.Check
	fetchBtn                     *widget.Button
	status                       *widget.Label
	signIn                       *widget.Hyperlink

	routes      []portalclient.Route
	routeChecks map[string]*widget.Check
	routeBox    *fyne.Container
	preview     *widget.Label
	removeCheck *widget.Check
	importBtn   *widget.Button
	cancelBtn   *widget.Button

	portal string // normalised URL the routes came from
	plan   connections.Plan
	cancel context.CancelFunc
	dlg    dialog.Dialog
}

func (w *MainWindow) openPortalImport() {
	p := &portalImport{w: w, routeChecks: map[string]*widget.Check{}}
	p.portalURL = widget.NewEntry()
	p.portalURL.SetPlaceHolder("https://portal.example.com")
	p.tags = widget.NewEntry()
	p.tags.SetPlaceHolder("tags for every imported connection: prod, db")
	p.tags.OnChanged = func(string) { p.replan() }
	p.caFile = widget.NewEntry()
	p.caFile.SetPlaceHolder("optional: PEM file of CAs to trust")
	p.caPEM = widget.NewEntry()
	p.caPEM.SetPlaceHolder("optional: -----BEGIN CERTIFICATE----- … (or base64 of PEM)")
	p.clientCert = widget.NewEntry()
	p.clientCert.SetPlaceHolder("optional: PEM file of a client certificate")
	p.clientKey = widget.NewEntry()
	p.clientKey.SetPlaceHolder("optional: PEM file of its private key")
	for _, e := range []*widget.Entry{p.caFile, p.caPEM, p.clientCert, p.clientKey} {
		e.OnChanged = func(string) { p.replan() }
	}
	p.skipVerify = widget.NewCheck("Skip TLS verification (insecure)", func(bool) { p.replan() })
	p.fetchBtn = widget.NewButton("Fetch routes", p.fetch)
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.signIn = widget.NewHyperlink("", nil)
	p.signIn.OnTapped = func() {
		if p.signIn.URL != nil {
			_ = w.app.OpenURL(p.signIn.URL)
		}
	}
	p.signIn.Hide()
	p.routeBox = container.NewVBox()
	p.preview = widget.NewLabel("")
	p.preview.Wrapping = fyne.TextWrapWord
	p.removeCheck = widget.NewCheck("", func(bool) { p.updateButtons() })
	p.removeCheck.Hide()
	p.importBtn = widget.NewButton("Import", p.apply)
	p.importBtn.Importance = widget.HighImportance
	p.importBtn.Disable()
	p.cancelBtn = widget.NewButton("Cancel", p.close)

	form := widget.NewForm(
		widget.NewFormItem("Portal URL", p.portalURL),
		widget.NewFormItem("Tags", p.tags),
		widget.NewFormItem("CA file", p.caFile),
		widget.NewFormItem("CA certificate", p.caPEM),
		widget.NewFormItem("Client certificate", p.clientCert),
		widget.NewFormItem("Client key", p.clientKey),
		widget.NewFormItem("", p.skipVerify),
	)
	top := container.NewVBox(form, container.NewHBox(p.fetchBtn), p.status, p.signIn)
	bottom := container.NewVBox(p.preview, p.removeCheck, container.NewHBox(layoutSpacer(), p.cancelBtn, p.importBtn))
	p.prefill()
	p.dlg = dialog.NewCustomWithoutButtons("Import from portal", container.NewBorder(top, bottom, nil, nil, container.NewVScroll(p.routeBox)), w.win)
	p.dlg.Resize(fyne.NewSize(720, 720))
	w.importer = p
	p.dlg.Show()
}

// tlsOptions are the dialog's TLS options: used to reach the portal and
// saved with every imported connection.
func (p *portalImport) tlsOptions() tlsconfig.Options {
	return tlsconfig.Options{
		DisableVerification: p.skipVerify.Checked,
		CAFile:              strings.TrimSpace(p.caFile.Text),
		CACert:              strings.TrimSpace(p.caPEM.Text),
		ClientCertFile:      strings.TrimSpace(p.clientCert.Text),
		ClientKeyFile:       strings.TrimSpace(p.clientKey.Text),
	}
}

// tlsProblem is what is wrong with the TLS options, in the form's words
// ("" when they can be used).
func (p *portalImport) tlsProblem() string {
	var fe *connections.FieldError
	if err := tlsFieldErr(connections.Connection{TLS: p.tlsOptions()}); errors.As(err, &fe) {
		return "TLS options: " + fe.Err.Error()
	} else if err != nil {
		return "TLS options: " + err.Error()
	}
	return ""
}

// fetch gets the routes in the background (a sign-in may take minutes).
func (p *portalImport) fetch() {
	portal, err := connections.NormalizePortalURL(p.portalURL.Text)
	if err != nil {
		p.status.SetText(err.Error())
		return
	}
	if msg := p.tlsProblem(); msg != "" {
		p.status.SetText(msg)
		return
	}
	u, _ := url.Parse(portal)
	if p.cancel != nil {
		p.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	p.cancel = cancel
	p.fetchBtn.Disable()
	p.status.SetText("Fetching routes from " + portal + "…")
	opts := p.tlsOptions()
	notify := func(signInURL string) {
		p.w.do(func() {
			if su, err := url.Parse(signInURL); err == nil {
				p.status.SetText("Sign in to continue; your browser should open. If not, open:")
				p.signIn.SetURL(su)
				p.signIn.SetText(signInURL)
				p.signIn.Show()
			}
		})
	}
	go func() {
		defer cancel()
		routes, err := p.w.portal.Routes(ctx, u, opts, notify)
		p.w.do(func() { p.fetched(portal, routes, err) })
	}()
}

func (p *portalImport) fetched(portal string, routes []portalclient.Route, err error) {
	p.fetchBtn.Enable()
	p.signIn.Hide()
	if err != nil {
		p.status.SetText("Could not fetch routes: " + err.Error())
		return
	}
	p.portal, p.routes = portal, routes
	// The add form offers these routes too, as pomerium-cli's completion
	// does: the same cache, never a fetch of its own.
	if u, err := url.Parse(portal); err == nil {
		_ = p.w.cliFactory().SaveRoutes(u, routes)
	}
	p.routeChecks = map[string]*widget.Check{}
	p.routeBox.Objects = nil
	n := 0
	for _, r := range routes {
		if (r.Type != "tcp" && r.Type != "udp") || r.ID == "" {
			continue
		}
		n++
		label := r.Name + "  —  " + r.From
		if r.Type == "udp" {
			label += "  (udp)"
		}
		c := widget.NewCheck(label, func(bool) { p.replan() })
		c.Checked = true
		p.routeChecks[r.ID] = c
		p.routeBox.Add(c)
	}
	p.status.SetText(fmt.Sprintf("%d tcp/udp routes at %s (%d routes in all).", n, portal, len(routes)))
	p.routeBox.Refresh()
	p.replan()
}

// replan recomputes the preview from the ticked routes and the tags.
func (p *portalImport) replan() {
	if p.portal == "" {
		return
	}
	if msg := p.tlsProblem(); msg != "" {
		p.preview.SetText("Cannot import: " + msg)
		p.plan = connections.Plan{}
		p.updateButtons()
		return
	}
	sel := map[string]bool{}
	for id, c := range p.routeChecks {
		sel[id] = c.Checked
	}
	tlsOpts, err := p.tlsOptions().Abs() // saved: the CLI may use it from another directory
	if err == nil {
		p.plan, err = connections.PlanImport(p.w.ctrl.Connections(), connections.PortalImport{
			PortalURL: p.portal, Routes: p.routes, Selected: sel, Tags: splitTags(p.tags.Text), TLS: tlsOpts,
		})
	}
	if err != nil {
		p.preview.SetText("Cannot import: " + err.Error())
		p.plan = connections.Plan{}
		p.updateButtons()
		return
	}
	plan := p.plan
	p.preview.SetText(previewText(plan))
	if len(plan.Remove) > 0 {
		p.removeCheck.SetText(fmt.Sprintf("Also remove %d connection(s) the portal no longer lists: %s", len(plan.Remove), names(plan.Remove)))
		p.removeCheck.Show()
	} else {
		p.removeCheck.SetChecked(false)
		p.removeCheck.Hide()
	}
	p.updateButtons()
}

func (p *portalImport) updateButtons() {
	if p.portal != "" && (!p.plan.Empty() || (p.removeCheck.Checked && len(p.plan.Remove) > 0)) {
		p.importBtn.Enable()
	} else {
		p.importBtn.Disable()
	}
}

func previewText(plan connections.Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Add %d, update %d, unchanged %d, no longer listed %d.", len(plan.Add), len(plan.Update), len(plan.Unchanged), len(plan.Remove))
	if len(plan.Add) > 0 {
		fmt.Fprintf(&b, "\nAdd: %s", names(plan.Add))
	}
	if len(plan.Update) > 0 {
		var ns []string
		for _, ch := range plan.Update {
			ns = append(ns, ch.New.Name)
		}
		fmt.Fprintf(&b, "\nUpdate: %s", strings.Join(ns, ", "))
	}
	return b.String()
}

func names(list []connections.Connection) string {
	ns := make([]string, len(list))
	for i, c := range list {
		ns[i] = c.Name
	}
	return strings.Join(ns, ", ")
}

// apply saves the plan; removals only when their box is ticked. What the
// plan newly sets that deserves a look (as for a file import: a listener
// other machines reach, autostart, key files outside home) is shown
// first and saved only on Import. Today's portal routes carry none of
// that, but the check does not trust the portal to stay so.
func (p *portalImport) apply() {
	incoming := slices.Clone(p.plan.Add)
	for _, ch := range p.plan.Update {
		incoming = append(incoming, ch.New)
	}
	home, _ := os.UserHomeDir()
	risks, err := p.w.ctrl.Store.ImportRisks(incoming, home)
	if err != nil {
		p.status.SetText("Import failed: " + err.Error())
		return
	}
	if len(risks) > 0 {
		plan, remove := p.plan, p.removeCheck.Checked
		p.w.confirmRiskyImport("The import from "+p.portal, risks, func() { p.save(plan, remove) })
		return
	}
	p.save(p.plan, p.removeCheck.Checked)
}

func (p *portalImport) save(plan connections.Plan, remove bool) {
	if err := connections.ApplyImport(p.w.ctrl.Store, plan, remove); err != nil {
		p.status.SetText("Import failed: " + err.Error())
		return
	}
	removed := 0
	if remove {
		removed = len(plan.Remove)
		for _, c := range plan.Remove {
			p.w.ctrl.Stop(c.ID)
		}
	}
	if err := p.w.ctrl.Load(); err != nil {
		p.w.showError(err)
	}
	p.close()
	p.w.lastInfo = fmt.Sprintf("Imported from %s: %d added, %d updated, %d removed.", plan.PortalURL, len(plan.Add), len(plan.Update), removed)
}

func (p *portalImport) close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.dlg.Hide()
	if p.w.importer == p {
		p.w.importer = nil
	}
}
