package tunnel

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http2"
)

// dialCall is an HTTP/2 dial under way; concurrent callers wait for it
// instead of dialing their own connection.
type dialCall struct {
	done chan struct{}
}

// h2Conn returns a shared HTTP/2 connection with a stream reserved for the
// caller, dialing one when none can take another stream. When the proxy
// does not offer h2 it returns the fresh TLS connection instead, for
// HTTP/1.1, and HTTP/1.1 is used from then on.
func (t *Tunnel) h2Conn(ctx context.Context) (*http2.ClientConn, *tls.Conn, error) {
	for range 10 {
		t.mu.Lock()
		if t.noH2 {
			t.mu.Unlock()
			return nil, nil, nil
		}
		live := t.h2[:0]
		for _, cc := range t.h2 {
			if st := cc.State(); !st.Closed && !st.Closing {
				live = append(live, cc)
			}
		}
		t.h2 = live
		for _, cc := range t.h2 {
			if cc.ReserveNewRequest() {
				t.mu.Unlock()
				return cc, nil, nil
			}
		}
		if d := t.h2dial; d != nil {
			t.mu.Unlock()
			select {
			case <-d.done:
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		d := &dialCall{done: make(chan struct{})}
		t.h2dial = d
		t.mu.Unlock()

		conn, err := t.dialProxy(ctx, []string{"h2", "http/1.1"})
		var cc *http2.ClientConn
		if err == nil && conn.ConnectionState().NegotiatedProtocol == "h2" {
			cc, err = t.h2t.NewClientConn(conn)
			if err != nil {
				conn.Close()
				err = fmt.Errorf("starting HTTP/2 with %s: %w", t.cfg.Destination.Proxy.Host, err)
			}
		}
		t.mu.Lock()
		t.h2dial = nil
		switch {
		case err != nil:
		case cc != nil:
			if t.closed {
				cc.Close()
				err = net.ErrClosed
			} else {
				t.h2 = append(t.h2, cc)
			}
		default:
			t.noH2 = true
		}
		t.mu.Unlock()
		close(d.done)
		if err != nil {
			return nil, nil, err
		}
		if cc == nil {
			return nil, conn, nil
		}
	}
	return nil, nil, fmt.Errorf("no HTTP/2 connection to %s could take another tunnel", t.cfg.Destination.Proxy.Host)
}

// connectH2 opens a CONNECT stream on cc: the request body carries the
// local bytes up, the response body brings the upstream's down.
func (t *Tunnel) connectH2(ctx context.Context, cc *http2.ClientConn, tok string) (upstream, int, string, error) {
	d := t.cfg.Destination
	if _, err := d.requestTarget(); err != nil {
		return nil, 0, "", err
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	req := (&http.Request{
		Method:        http.MethodConnect,
		URL:           &url.URL{Host: d.Authority},
		Host:          d.Authority,
		Header:        http.Header{},
		Body:          pr,
		ContentLength: -1,
	}).WithContext(ctx)
	if tok != "" {
		req.Header.Set("Authorization", "Pomerium "+tok)
	}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		// ctxErr before cancel: after it, every error would read "canceled".
		err = fmt.Errorf("CONNECT %s over HTTP/2 to %s: %w", d.Authority, d.Proxy.Host, ctxErr(ctx, err))
		cancel()
		pw.Close()
		return nil, 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		pw.Close()
		cancel()
		return nil, resp.StatusCode, strings.TrimSpace(string(body)), nil
	}
	return &h2Upstream{pw: pw, body: resp.Body, cancel: cancel}, http.StatusOK, "", nil
}

type h2Upstream struct {
	pw     *io.PipeWriter
	body   io.ReadCloser
	cancel context.CancelFunc
}

func (u *h2Upstream) Read(p []byte) (int, error)  { return u.body.Read(p) }
func (u *h2Upstream) Write(p []byte) (int, error) { return u.pw.Write(p) }

// CloseWrite ends the request body: END_STREAM, the upstream sees EOF.
func (u *h2Upstream) CloseWrite() error { return u.pw.Close() }

func (u *h2Upstream) Close() error {
	u.pw.Close()
	err := u.body.Close()
	u.cancel()
	return err
}
