// Package portal builds the routes portal: the JSON of
// /.pomerium/api/v1/routes (exact shape, stable ids, derived unique names,
// connect_command rules of shared/PROTOCOL.md) and the HTML page of
// /.pomerium/routes, listing only routes whose policy could allow the user.
package portal

import (
	"io"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/policy"
)

// Entry is one route in the portal JSON.
type Entry struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	From           string `json:"from"`
	Description    string `json:"description"`
	ConnectCommand string `json:"connect_command,omitempty"`
	LogoURL        string `json:"logo_url"`
}

// Entries lists the routes id could be allowed (nil id: only public ones).
func Entries(routes []config.Route, id *policy.Identity) []Entry { panic("not implemented") }

// WriteJSON writes {"routes":[...]}.
func WriteJSON(w io.Writer, entries []Entry) error { panic("not implemented") }

// PageData is what the HTML page shows.
type PageData struct {
	User       string // email of the signed-in user, "" when anonymous
	SignOutURL string
	Entries    []Entry
}

// WriteHTML renders the routes page (readable without JavaScript; the
// copy buttons and filter box use a little inline JS).
func WriteHTML(w io.Writer, d PageData) error { panic("not implemented") }
