package gui

// prefill fills the portal import from the server pomerium-cli used last
// (its URL and remembered TLS files), so a user who signed in with the
// CLI needs to type nothing. An unreadable servers.json just leaves the
// form empty: it is a convenience.
func (p *portalImport) prefill() {
	f := p.w.cliFactory()
	ps, err := f.Profiles()
	if err != nil || len(ps) == 0 {
		return
	}
	last := ps[0]
	p.portalURL.SetText(last.URL)
	p.caFile.SetText(last.CAFile)
	p.caPEM.SetText(last.CACert)
	p.clientCert.SetText(last.ClientCertFile)
	p.clientKey.SetText(last.ClientKeyFile)
}
