// Package portalclient fetches the routes portal JSON
// (GET /.pomerium/api/v1/routes) from a Pomerium-style proxy, signing in
// once when the proxy asks.
//
//	c := &portalclient.Client{HTTPClient: hc, Auth: auth}
//	routes, err := c.Routes(ctx, serverURL, nil)
package portalclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/termtext"
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

// DefaultMaxBody limits the routes JSON a proxy may send.
const DefaultMaxBody = 8 << 20

// RoutesPath is where the routes JSON is served.
const RoutesPath = "/.pomerium/api/v1/routes"

// HTTPError is an answer other than 200 from the proxy.
type HTTPError struct {
	URL        string
	StatusCode int
	Status     string
	Body       string // at most 4 KiB of the answer
	Message    string // the "error" field of a JSON error body, if any
	// SignedIn is set when the proxy refused right after a fresh sign-in.
	SignedIn bool
}

// Error is one escaped line: the status text and body are the server's.
func (e *HTTPError) Error() string { return termtext.Escape(e.text()) }

func (e *HTTPError) text() string {
	detail := termtext.Escape(e.Message)
	if detail == "" {
		detail = firstLine(e.Body)
	}
	if detail != "" {
		detail = ": " + detail
	}
	switch {
	case e.StatusCode == http.StatusNotFound:
		return fmt.Sprintf("%s has no routes portal (404)", e.URL)
	case isSignIn(e.StatusCode) && e.SignedIn:
		return fmt.Sprintf("%s still asks to sign in after signing in (%d)%s", e.URL, e.StatusCode, detail)
	case isSignIn(e.StatusCode):
		return fmt.Sprintf("%s: not signed in (%d)%s", e.URL, e.StatusCode, detail)
	case e.StatusCode == http.StatusForbidden:
		return fmt.Sprintf("%s: access denied (403)%s", e.URL, detail)
	}
	return fmt.Sprintf("%s answered %s%s", e.URL, e.Status, detail)
}

// IsUnauthorized reports whether err is a sign-in the proxy still wants
// (401 or a redirect to sign-in).
func IsUnauthorized(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && isSignIn(he.StatusCode)
}

// IsNotFound reports whether err is a 404 (no routes portal).
func IsNotFound(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.StatusCode == http.StatusNotFound
}

// FormatError is a 200 answer that is not the routes JSON.
type FormatError struct {
	URL         string
	ContentType string
	Err         error // the JSON error, when the type was right but the body not
}

func (e *FormatError) Error() string {
	got := e.ContentType
	if got == "" {
		got = "no content type"
	}
	if e.Err != nil {
		got += ", " + e.Err.Error()
	}
	return fmt.Sprintf("%s did not answer with the routes JSON (got %s): is this a Pomerium proxy with the routes portal enabled?", e.URL, got)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrTooLarge is returned when the answer is larger than MaxBody.
var ErrTooLarge = errors.New("answer too large")

func isSignIn(code int) bool {
	switch code {
	case http.StatusUnauthorized, http.StatusFound, http.StatusSeeOther,
		http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// Routes returns the routes the signed-in user may use.
func (c *Client) Routes(ctx context.Context, server *url.URL, notify func(string)) ([]Route, error) {
	if server == nil || server.Host == "" {
		return nil, errors.New("routes: no server URL")
	}
	u := server.ResolveReference(&url.URL{Path: RoutesPath}).String()
	tok := ""
	if c.Auth != nil {
		var err error
		if tok, err = c.Auth.CachedToken(ctx, server); err != nil {
			return nil, fmt.Errorf("reading the cached token: %w", err)
		}
	}
	signedIn := false
	for {
		resp, err := c.do(ctx, http.MethodGet, u, tok)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusOK {
			body, err := decodeJSON[routesDoc](resp, c.maxBody())
			if err != nil {
				return nil, err
			}
			if body.Routes == nil {
				return nil, &FormatError{URL: u, ContentType: resp.Header.Get("Content-Type"), Err: errors.New(`no "routes" field`)}
			}
			return *body.Routes, nil
		}
		he := httpError(resp, u)
		he.SignedIn = signedIn
		if !isSignIn(resp.StatusCode) || c.Auth == nil || signedIn {
			return nil, he
		}
		// The token just refused (if any) is stale; SignIn drops it.
		if tok, err = c.Auth.SignIn(ctx, server, tok, notify); err != nil {
			return nil, fmt.Errorf("signing in to %s: %w", server.Host, err)
		}
		signedIn = true
	}
}

type routesDoc struct {
	Routes *[]Route `json:"routes"`
}

func (c *Client) maxBody() int64 {
	if c.MaxBody > 0 {
		return c.MaxBody
	}
	return DefaultMaxBody
}

// do sends one request with the token; redirects are returned, not
// followed (a 302 from the proxy means "sign in").
func (c *Client) do(ctx context.Context, method, u, tok string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("routes request %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer Pomerium-"+tok)
	}
	hc := http.DefaultClient
	if c.HTTPClient != nil {
		hc = c.HTTPClient
	}
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching routes from %s: %w", u, err)
	}
	return resp, nil
}

// httpError reads (a bounded part of) a refusal and closes the body.
func httpError(resp *http.Response, u string) *HTTPError {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	he := &HTTPError{URL: u, StatusCode: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(b))}
	var j struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &j) == nil {
		he.Message = j.Error
	}
	return he
}

// decodeJSON checks the content type and decodes at most max bytes of
// resp's body into a T, closing the body.
func decodeJSON[T any](resp *http.Response, max int64) (*T, error) {
	defer resp.Body.Close()
	u := resp.Request.URL.String()
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, &FormatError{URL: u, ContentType: ct}
	}
	b, err := bounded.Body(resp, max+1)
	if err != nil {
		return nil, fmt.Errorf("reading routes from %s: %w", u, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("routes from %s: %w (more than %d bytes)", u, ErrTooLarge, max)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, &FormatError{URL: u, ContentType: ct, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	return &v, nil
}

// firstLine is the part of an error body an error message quotes: one
// line, at most 200 bytes, escaped (the body is the server's to choose).
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return termtext.Escape(s)
}
