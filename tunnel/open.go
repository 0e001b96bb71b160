package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// StatusError is a CONNECT the proxy refused. It ends that connection only;
// the token is kept.
type StatusError struct {
	Proxy      string // the proxy URL
	Authority  string // the CONNECT target
	StatusCode int
	Body       string // the start of the proxy's answer, for --verbose
}

func (e *StatusError) Error() string {
	switch c := e.StatusCode; {
	case c == http.StatusForbidden:
		return fmt.Sprintf("access denied to %s by %s: the proxy's policy does not allow you (403)", e.Authority, e.Proxy)
	case c == http.StatusNotFound:
		return fmt.Sprintf("no route for %s on %s (404)", e.Authority, e.Proxy)
	case c == http.StatusUnauthorized || isRedirect(c):
		return fmt.Sprintf("%s still asks to sign in for %s after signing in (%d)", e.Proxy, e.Authority, c)
	case c >= 500:
		return fmt.Sprintf("upstream unavailable: %s could not reach %s (%d %s)", e.Proxy, e.Authority, c, http.StatusText(c))
	}
	return fmt.Sprintf("%s refused the tunnel to %s (%d %s)", e.Proxy, e.Authority, e.StatusCode, http.StatusText(e.StatusCode))
}

// IsAccessDenied reports whether err is a 403 from the proxy.
func IsAccessDenied(err error) bool { return statusIs(err, http.StatusForbidden) }

// IsNoRoute reports whether err is a 404 from the proxy.
func IsNoRoute(err error) bool { return statusIs(err, http.StatusNotFound) }

func statusIs(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.StatusCode == code
}

func isRedirect(c int) bool {
	return c == http.StatusMovedPermanently || c == http.StatusFound ||
		c == http.StatusTemporaryRedirect || c == http.StatusPermanentRedirect
}

// ErrSignInNeeded is returned when the proxy asks for a sign-in and the
// tunnel has no Authenticator.
var ErrSignInNeeded = errors.New("the proxy asks to sign in, and no authenticator is configured")

// open makes the CONNECT, signing in once when the proxy asks.
func (t *Tunnel) open(ctx context.Context, id uint64, ed *earlyData) (upstream, error) {
	return t.openWith(ctx, id, func(ctx context.Context, tok string) (upstream, int, string, error) {
		return t.connect(ctx, tok, ed)
	})
}

// connectFunc makes one tunnel request with tok: a CONNECT, or a
// connect-udp (udp.go).
type connectFunc func(ctx context.Context, tok string) (upstream, int, string, error)

// openWith is open with the request made by connect.
func (t *Tunnel) openWith(ctx context.Context, id uint64, connect connectFunc) (upstream, error) {
	d := t.cfg.Destination
	tok := ""
	if t.cfg.Auth != nil {
		var err error
		if tok, err = t.cfg.Auth.CachedToken(ctx, d.Proxy); err != nil {
			return nil, fmt.Errorf("reading the cached token: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		up, code, body, err := connect(ctx, tok)
		if err != nil {
			return nil, err
		}
		if code == http.StatusOK {
			return up, nil
		}
		se := &StatusError{Proxy: d.Proxy.String(), Authority: d.Authority, StatusCode: code, Body: body}
		if code != http.StatusUnauthorized && !isRedirect(code) {
			return nil, se
		}
		if t.cfg.Auth == nil {
			return nil, fmt.Errorf("%w (%d from %s)", ErrSignInNeeded, code, d.Proxy)
		}
		if attempt > 0 {
			return nil, se
		}
		// The token just refused (if any) is stale: SignIn drops it, or
		// returns a newer one another connection already got.
		notify := func(u string) { t.emit(Event{Kind: EventSignIn, ConnID: id, SignInURL: u}) }
		if tok, err = t.cfg.Auth.SignIn(ctx, d.Proxy, tok, notify); err != nil {
			return nil, fmt.Errorf("signing in to %s: %w", d.Proxy, err)
		}
	}
}

// connect makes one CONNECT: over a shared HTTP/2 connection when the
// proxy offers h2, else over a new HTTP/1.1 connection. On a status other
// than 200 it returns the status and the start of the body.
func (t *Tunnel) connect(ctx context.Context, tok string, ed *earlyData) (upstream, int, string, error) {
	if !t.cfg.DisableHTTP2 {
		// A shared connection may have died without a GOAWAY (the proxy
		// restarted): drop it and try once more on a fresh one.
		for attempt := 0; ; attempt++ {
			c, h1conn, err := t.getH2(ctx)
			if err != nil {
				return nil, 0, "", err
			}
			if h1conn != nil {
				return t.connectH1(ctx, h1conn, tok)
			}
			if c == nil {
				break // the proxy does not offer h2
			}
			up, code, body, err := t.connectH2(ctx, c, tok, ed)
			if err != nil && attempt == 0 && ctx.Err() == nil {
				c.cc.Close()
				continue
			}
			return up, code, body, err
		}
	}
	conn, err := t.dialProxy(ctx, false)
	if err != nil {
		return nil, 0, "", err
	}
	return t.connectH1(ctx, conn, tok)
}
