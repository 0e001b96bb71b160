package gui

import (
	"errors"
	"io"
	"net/url"
	"strings"

	"fyne.io/fyne/v2/widget"

	"github.com/porthole-dev/porthole/cli/cmdutil"
	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/termtext"
	"github.com/porthole-dev/porthole/portalclient"
)

// routeOption is one tcp/udp route a known server's portal listed.
type routeOption struct {
	server  string // the portal it came from
	route   portalclient.Route
	profile cmdutil.ServerProfile
}

// cliFactory reads what pomerium-cli remembers (servers.json, the routes
// cache) and never touches the network.
func (w *MainWindow) cliFactory() *cmdutil.Factory {
	return &cmdutil.Factory{IO: cmdutil.NewIOStreams(strings.NewReader(""), io.Discard, io.Discard), ConfigDir: w.serversDir, CacheDir: w.cliCacheDir}
}

// knownRoutes are the tcp and udp routes in the cached routes lists of
// the servers pomerium-cli remembers (newest first) and the portals saved
// connections were imported from.
// Only caches are read: the form must open at once, and an import or
// `pomerium-cli login` refreshes them.
func (w *MainWindow) knownRoutes() []routeOption {
	f := w.cliFactory()
	ps, _ := f.Profiles()
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p.URL] = true
	}
	for _, c := range w.ctrl.Connections() {
		if c.Source != nil && c.Source.PortalURL != "" && !seen[c.Source.PortalURL] {
			seen[c.Source.PortalURL] = true
			ps = append(ps, cmdutil.ServerProfile{URL: c.Source.PortalURL, CAFile: c.TLS.CAFile, CACert: c.TLS.CACert,
				ClientCertFile: c.TLS.ClientCertFile, ClientKeyFile: c.TLS.ClientKeyFile})
		}
	}
	var out []routeOption
	for _, p := range ps {
		u, err := url.Parse(p.URL)
		if err != nil {
			continue
		}
		rs, _, err := f.CachedRoutes(u)
		if err != nil {
			continue
		}
		for _, r := range rs {
			if (r.Type == "tcp" || r.Type == "udp") && r.ID != "" {
				out = append(out, routeOption{server: p.URL, route: r, profile: p})
			}
		}
	}
	return out
}

// label is how a route reads in the form's list: name, from and server,
// escaped (portal data is hostile until shown safe).
func (o routeOption) label() string {
	s := o.route.Name + "  —  " + o.route.From
	if o.route.Type == "udp" {
		s += "  (udp)"
	}
	if u, err := url.Parse(o.server); err == nil {
		s += "  @ " + u.Host
	}
	return termtext.Escape(s)
}

// routeChoice is the form's "Route" field: picking a route fills the
// destination, protocol, Pomerium URL, name (when empty) and the server's
// remembered TLS files (when none are set), as an import of that one
// route would.
func (f *connForm) routeChoice() *widget.Select {
	opts := f.w.knownRoutes()
	labels := make([]string, len(opts))
	byLabel := map[string]routeOption{}
	for i, o := range opts {
		labels[i] = o.label()
		byLabel[labels[i]] = o
	}
	sel := widget.NewSelect(labels, func(l string) {
		if o, ok := byLabel[l]; ok {
			f.useRoute(o)
		}
	})
	f.route = sel
	if len(opts) == 0 {
		sel.PlaceHolder = "no routes known yet: Import from portal, or pomerium-cli login"
		sel.Disable()
	} else {
		sel.PlaceHolder = "optional: pick one of your portals' routes"
	}
	return sel
}

func (f *connForm) useRoute(o routeOption) {
	plan, err := connections.PlanImport(nil, connections.PortalImport{
		PortalURL: o.server, Routes: []portalclient.Route{o.route}, Selected: map[string]bool{o.route.ID: true},
	})
	if err == nil && len(plan.Add) != 1 {
		err = errors.New("this route cannot be saved as a connection")
		if len(plan.Skipped) > 0 && plan.Skipped[0].Err != nil {
			err = plan.Skipped[0].Err
		}
	}
	if err != nil {
		f.w.showError(err)
		return
	}
	c := plan.Add[0]
	f.base.Source = c.Source // a later import of this portal matches it
	f.dest.SetText(c.Destination)
	f.pomeriumURL.SetText(c.PomeriumURL)
	if c.UDP() {
		f.protocol.SetSelected(protoUDP)
	} else {
		f.protocol.SetSelected(protoTCP)
	}
	if strings.TrimSpace(f.name.Text) == "" {
		f.name.SetText(c.Name)
	}
	p := o.profile
	if f.caFile.Text == "" && f.caPEM.Text == "" && f.clientCertFile.Text == "" && f.clientKeyFile.Text == "" {
		f.caFile.SetText(p.CAFile)
		f.caPEM.SetText(p.CACert)
		f.clientCertFile.SetText(p.ClientCertFile)
		f.clientKeyFile.SetText(p.ClientKeyFile)
	}
	if c.PomeriumURL != "" || f.caFile.Text != "" || f.caPEM.Text != "" || f.clientCertFile.Text != "" {
		f.advanced.Open(0)
	}
	f.validate()
}
