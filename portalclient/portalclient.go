// Package portalclient fetches the routes portal JSON
// (GET /.pomerium/api/v1/routes) from a Pomerium-style proxy, signing in
// once when the proxy asks.
//
//	c := &portalclient.Client{HTTPClient: hc, Auth: auth}
//	routes, err := c.Routes(ctx, serverURL, nil)
package portalclient

import (
	"context"
	"net/http"
	"net/url"
)

// Route is one entry of the portal JSON, field for field (PROTOCOL.md).
type Route struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Type           string `json:"type"` // "http", "tcp" or "udp"
	From           string `json:"from"`
	Description    string `json:"description"`
	ConnectCommand string `json:"connect_command,omitempty"`
	LogoURL        string `json:"logo_url"`
}

// Authenticator is what the client needs of authflow.Authenticator.
type Authenticator interface {
	CachedToken(ctx context.Context, proxy *url.URL) (string, error)
	SignIn(ctx context.Context, proxy *url.URL, stale string, notify func(string)) (string, error)
}

// Client fetches routes.
type Client struct {
	HTTPClient *http.Client
	Auth       Authenticator // nil: no sign-in
	MaxBody    int64         // default 8 MiB
}

// Routes returns the routes the signed-in user may use.
func (c *Client) Routes(ctx context.Context, server *url.URL, notify func(string)) ([]Route, error) {
	panic("not implemented")
}
