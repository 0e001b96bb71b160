package connections

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
)

// Risks lists what saving c would do that deserves a second look, each as
// a short phrase: a listen address other machines can reach, starting on
// its own, key files outside home (the user's home directory). An import
// shows them in its plan and asks before saving.
func Risks(c Connection, home string) []string {
	var out []string
	if r := listenRisk(c.ListenAddr); r != "" {
		out = append(out, r)
	}
	if c.Autostart {
		out = append(out, "starts on its own when the desktop app starts")
	}
	for _, f := range []struct{ what, path string }{
		{"client key file", c.TLS.ClientKeyFile},
		{"client certificate file", c.TLS.ClientCertFile},
	} {
		if f.path != "" && !underDir(f.path, home) {
			out = append(out, fmt.Sprintf("uses the %s %s, outside your home directory", f.what, f.path))
		}
	}
	return out
}

func listenRisk(addr string) string {
	if addr == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "" // Normalize refuses it
	}
	if host == "" {
		return fmt.Sprintf("listens on %s: every network interface, reachable from other machines", addr)
	}
	if strings.EqualFold(host, "localhost") {
		return ""
	}
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return fmt.Sprintf("listens on %s: a host name, which may not be this machine's loopback", addr)
	case ip.IsUnspecified():
		return fmt.Sprintf("listens on %s: every network interface, reachable from other machines", addr)
	case !ip.IsLoopback():
		return fmt.Sprintf("listens on %s: not loopback, reachable from other machines", addr)
	}
	return ""
}

// underDir reports whether path lies inside dir (after cleaning; a
// relative path is taken from the current directory).
func underDir(path, dir string) bool {
	if dir == "" {
		return false
	}
	p, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// RisksAdded is Risks(c) less what old (the saved connection c replaces,
// nil for a new one) already had: re-importing one's own backup asks
// nothing, a changed listen address does.
func RisksAdded(old *Connection, c Connection, home string) []string {
	rs := Risks(c, home)
	if old == nil {
		return rs
	}
	had := Risks(*old, home)
	out := rs[:0:0]
	for _, r := range rs {
		if !slices.Contains(had, r) {
			out = append(out, r)
		}
	}
	return out
}

// NamedRisk is one risk of one connection of an import.
type NamedRisk struct{ Name, Risk string }

// ImportRisks lists what importing incoming would newly set that
// deserves a second look, matching saved connections as Import does.
func (s *Store) ImportRisks(incoming []Connection, home string) ([]NamedRisk, error) {
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	var out []NamedRisk
	for _, in := range incoming {
		in.ID = strings.TrimSpace(in.ID)
		var old *Connection
		if i := matchImport(list, in); i >= 0 {
			old = &list[i]
		}
		for _, r := range RisksAdded(old, in, home) {
			out = append(out, NamedRisk{Name: in.Name, Risk: r})
		}
	}
	return out, nil
}
