package routing

import (
	"bytes"
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/porthole-dev/porthole/server/config"
)

func logOf(x float64) float64 {
	if x <= 0 {
		x = 1e-300
	}
	return math.Log(x)
}

// healthLoop runs one active health check against u until the pool
// stops, flipping u after unhealthy_threshold failures in a row and back
// after healthy_threshold successes in a row.
func (p *Pool) healthLoop(u *Upstream, hc config.HealthCheck) {
	defer p.wg.Done()
	t := time.NewTicker(hc.Interval)
	defer t.Stop()
	fails, oks := 0, 0
	for {
		ok := p.probe(u, hc)
		if ok {
			oks, fails = oks+1, 0
			if oks >= hc.HealthyThreshold && u.unhealthy.Swap(false) {
				p.log.Info("upstream healthy again", "upstream", u.URL.Host)
			}
		} else {
			fails, oks = fails+1, 0
			if fails >= hc.UnhealthyThreshold && !u.unhealthy.Swap(true) {
				p.log.Warn("upstream failed its health check", "upstream", u.URL.Host)
			}
		}
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

func (p *Pool) probe(u *Upstream, hc config.HealthCheck) bool {
	ctx, cancel := context.WithTimeout(context.Background(), hc.Timeout)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if hc.TCP {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.URL.Host)
		if err != nil {
			return false
		}
		defer c.Close()
		if dl, ok := ctx.Deadline(); ok {
			c.SetDeadline(dl)
		}
		if len(hc.TCPSend) > 0 {
			if _, err := c.Write(hc.TCPSend); err != nil {
				return false
			}
		}
		if len(hc.TCPReceive) > 0 {
			got := make([]byte, len(hc.TCPReceive))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, hc.TCPReceive) {
				return false
			}
		}
		return true
	}
	target := *u.URL
	target.Path, target.RawPath, target.RawQuery = hc.HTTPPath, "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return false
	}
	if hc.HTTPHost != "" {
		req.Host = hc.HTTPHost
	}
	req.Header.Set("User-Agent", "pomerium-server-health-check")
	rt := http.RoundTripper(p.Transport)
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if len(hc.ExpectedStatuses) == 0 {
		return resp.StatusCode == http.StatusOK
	}
	for _, r := range hc.ExpectedStatuses {
		if resp.StatusCode >= r[0] && resp.StatusCode < r[1] {
			return true
		}
	}
	return false
}
