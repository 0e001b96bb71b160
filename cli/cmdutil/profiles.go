package cmdutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"time"

	"github.com/porthole-dev/porthole/internal/atomicfile"
	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
)

// serversFile holds the per-server profiles, next to last-server.
const serversFile = "servers.json"

// maxServersFile bounds what is read back: a profile is a few hundred
// bytes, an inline CA a few KiB.
const maxServersFile = 1 << 20

// ServerProfile is what is remembered of a server so a later run needs
// neither its URL nor its TLS flags. --disable-tls-verification is never
// remembered: turning verification off has to be asked for every time.
type ServerProfile struct {
	URL            string    `json:"url" yaml:"url"`
	CAFile         string    `json:"alternate_ca_path,omitempty" yaml:"alternate_ca_path,omitempty"`
	CACert         string    `json:"ca_cert,omitempty" yaml:"ca_cert,omitempty"`
	ClientCertFile string    `json:"client_cert,omitempty" yaml:"client_cert,omitempty"`
	ClientKeyFile  string    `json:"client_key,omitempty" yaml:"client_key,omitempty"`
	PomeriumURL    string    `json:"pomerium_url,omitempty" yaml:"pomerium_url,omitempty"`
	LastUsed       time.Time `json:"last_used" yaml:"last_used"`
}

// TLS is the profile's TLS options.
func (p ServerProfile) TLS() tlsconfig.Options {
	return tlsconfig.Options{CAFile: p.CAFile, CACert: p.CACert, ClientCertFile: p.ClientCertFile, ClientKeyFile: p.ClientKeyFile}
}

type serversDoc struct {
	Servers []ServerProfile `json:"servers"`
}

// Profiles are the remembered servers, most recently used first.
func (f *Factory) Profiles() ([]ServerProfile, error) {
	d, err := f.configDir()
	if err != nil {
		return nil, err
	}
	p := filepath.Join(d, serversFile)
	b, err := bounded.ReadFile(p, maxServersFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the remembered servers: %w", err)
	}
	var doc serversDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("reading the remembered servers in %s: %w (fix or delete the file)", p, err)
	}
	out := doc.Servers[:0]
	for _, s := range doc.Servers {
		if u, err := ParseServerURL(s.URL); err == nil && u.String() == s.URL {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastUsed.After(out[j].LastUsed) })
	return out, nil
}

// Profile is the remembered profile of u, if any.
func (f *Factory) Profile(u *url.URL) (ServerProfile, bool, error) {
	ps, err := f.Profiles()
	if err != nil {
		return ServerProfile{}, false, err
	}
	for _, p := range ps {
		if p.URL == u.String() {
			return p, true, nil
		}
	}
	return ServerProfile{}, false, nil
}

func (f *Factory) writeProfiles(ps []ServerProfile) error {
	d, err := f.configDir()
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []ServerProfile{}
	}
	b, err := json.MarshalIndent(serversDoc{Servers: ps}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the remembered servers: %w", err)
	}
	return atomicfile.Write(filepath.Join(d, serversFile), append(b, '\n'), 0o600)
}

// RememberServer records u's profile with the TLS options in effect (file
// paths made absolute so the profile works from any directory) and the
// time; pomeriumURL is kept when "" is given.
func (f *Factory) RememberServer(u *url.URL, pomeriumURL string) error {
	ps, err := f.Profiles()
	if err != nil {
		return err
	}
	o := f.Opts.TLS
	p := ServerProfile{
		URL:            u.String(),
		CAFile:         absPath(o.CAFile),
		CACert:         o.CACert,
		ClientCertFile: absPath(o.ClientCertFile),
		ClientKeyFile:  absPath(o.ClientKeyFile),
		PomeriumURL:    pomeriumURL,
		LastUsed:       f.now(),
	}
	out := []ServerProfile{p}
	for i, q := range ps {
		if q.URL == p.URL {
			if p.PomeriumURL == "" {
				out[0].PomeriumURL = q.PomeriumURL
			}
			// Already the most recent, and used within the grain: its time
			// stands, so a command run again and again rewrites nothing.
			if age := p.LastUsed.Sub(q.LastUsed); i == 0 && age >= 0 && age < lastUsedGrain {
				out[0].LastUsed = q.LastUsed
			}
			continue
		}
		out = append(out, q)
	}
	return f.writeProfiles(out)
}

// lastUsedGrain is how precisely LastUsed follows use: it orders the
// servers, for which a minute is plenty, and a finer one would make every
// command that names a server rewrite (and sync) servers.json.
const lastUsedGrain = time.Minute

// ForgetServer drops u's profile, its cached routes list and the
// last-server mark when it is u; false when u was not remembered.
func (f *Factory) ForgetServer(u *url.URL) (bool, error) {
	ps, err := f.Profiles()
	if err != nil {
		return false, err
	}
	found := false
	out := make([]ServerProfile, 0, len(ps))
	for _, p := range ps {
		if p.URL == u.String() {
			found = true
			continue
		}
		out = append(out, p)
	}
	last, err := f.LastServer()
	if err != nil {
		return false, err
	}
	if lu, err := ParseServerURL(last); err == nil && lu.String() == u.String() {
		found = true
		next := ""
		if len(out) > 0 {
			next = out[0].URL
		}
		if err := f.setLastServer(next); err != nil {
			return false, err
		}
	}
	if !found {
		return false, nil
	}
	if err := f.DropRoutes(u); err != nil {
		return false, err
	}
	return true, f.writeProfiles(out)
}

// tlsFlagsGiven reports whether any TLS flag was set on the command line.
func (f *Factory) tlsFlagsGiven() bool { return f.Opts.TLS != (tlsconfig.Options{}) }

// applyProfile makes u's remembered TLS options the ones in effect when
// no TLS flag was given: flags always win over the profile.
func (f *Factory) applyProfile(u *url.URL) error {
	if f.tlsFlagsGiven() {
		return nil
	}
	p, ok, err := f.Profile(u)
	if err != nil || !ok {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Opts.TLS = p.TLS()
	// Anything built from the old options is stale.
	f.tlsCfg, f.httpClient, f.auth = nil, nil, nil
	return nil
}

// UseServer is for commands naming a proxy some other way (a tcp
// destination, a saved connection): it applies u's profile as
// ResolveServer does and makes u the command's Target.
func (f *Factory) UseServer(u *url.URL) error {
	f.Target = u.String()
	return f.applyProfile(u)
}

func (f *Factory) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now().UTC().Truncate(time.Second)
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
