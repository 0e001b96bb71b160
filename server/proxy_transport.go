package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/porthole-dev/porthole/server/routing"
)

// failoverTransport sends one proxied request to the route's upstreams:
// it picks by lb_policy and, when an upstream refuses the connection
// before anything was sent, ejects it and tries the next (passive
// failover). One per request.
type failoverTransport struct {
	pool    *routing.Pool
	hashKey string
	act     *activity
	upgrade bool
	log     *slog.Logger

	plan  pathPlan
	query string
}

func (t *failoverTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body *retryBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &retryBody{rc: req.Body}
	}
	defer func() {
		if body != nil {
			body.rc.Close()
		}
	}()
	var tried []*routing.Upstream
	var lastErr error
	for {
		u := t.pool.Pick(t.hashKey, tried)
		if u == nil {
			if lastErr == nil {
				lastErr = errors.New("no upstream")
			}
			return nil, lastErr
		}
		tried = append(tried, u)
		out := req.Clone(req.Context())
		out.URL = t.plan.target(u.URL, t.query)
		if body != nil {
			out.Body = body
		}
		end := u.Begin()
		resp, err := t.pool.Transport.RoundTrip(out)
		if err == nil {
			resp.Body = t.wrapBody(resp, end)
			body = nil // the transport owns it now
			return resp, nil
		}
		end()
		lastErr = err
		if !isDialError(err) || (body != nil && body.read.Load()) || req.Context().Err() != nil {
			return nil, err
		}
		t.pool.Fail(u, err)
	}
}

// wrapBody ends the upstream's in-flight count when the body closes and,
// for a 101 upgrade, counts the tunnel's bytes as activity (idle_timeout
// for websockets).
func (t *failoverTransport) wrapBody(resp *http.Response, end func()) io.ReadCloser {
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok && resp.StatusCode == http.StatusSwitchingProtocols {
		return &activeConn{rwc: rwc, act: t.act, end: end}
	}
	return &endBody{ReadCloser: resp.Body, end: end}
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// retryBody lets a request body survive a failed attempt: Close is
// deferred to the end of RoundTrip, and a read marks it consumed.
type retryBody struct {
	rc   io.ReadCloser
	read atomic.Bool
}

func (b *retryBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.rc.Read(p)
}
func (b *retryBody) Close() error { return nil }

type endBody struct {
	io.ReadCloser
	once sync.Once
	end  func()
}

func (b *endBody) Close() error {
	b.once.Do(b.end)
	return b.ReadCloser.Close()
}

// activeConn is an upgraded upstream connection whose bytes keep the
// idle timer from firing.
type activeConn struct {
	rwc  io.ReadWriteCloser
	act  *activity
	once sync.Once
	end  func()
}

func (c *activeConn) Read(p []byte) (int, error) {
	n, err := c.rwc.Read(p)
	if n > 0 {
		c.act.touch()
	}
	return n, err
}

func (c *activeConn) Write(p []byte) (int, error) {
	c.act.touch()
	return c.rwc.Write(p)
}

func (c *activeConn) Close() error {
	c.once.Do(c.end)
	return c.rwc.Close()
}

// activeBody is a request body whose reads count as activity.
type activeBody struct {
	io.ReadCloser
	act *activity
}

func (b *activeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.act.touch()
	}
	return n, err
}

// activeWriter is the client's response writer; writes count as
// activity.
type activeWriter struct {
	http.ResponseWriter
	act *activity
}

func (w *activeWriter) Write(p []byte) (int, error) {
	w.act.touch()
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *activeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
