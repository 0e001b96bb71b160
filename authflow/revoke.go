package authflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// ErrRevokeUnsupported: the proxy has no logout API (real Pomerium, older
// servers); only the local copy of the token can be forgotten.
var ErrRevokeUnsupported = errors.New("the proxy cannot revoke tokens")

// Revoke asks proxy to stop accepting tok (POST /.pomerium/api/v1/logout),
// so a copy of it left anywhere is useless. A token the proxy already
// refuses counts as revoked.
func Revoke(ctx context.Context, hc *http.Client, proxy *url.URL, tok string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	u := proxy.Scheme + "://" + proxy.Host + "/.pomerium/api/v1/logout"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Pomerium "+tok)
	resp, err := noFollow(hc).Do(req)
	if err != nil {
		return fmt.Errorf("revoking the token at %s: %w", proxy.Host, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed || (resp.StatusCode >= 300 && resp.StatusCode < 400):
		return ErrRevokeUnsupported
	}
	return fmt.Errorf("revoking the token at %s: %s", proxy.Host, resp.Status)
}

// noFollow is a copy of hc (nil: http.DefaultClient) that hands back a
// redirect instead of following it: the login, device and logout APIs
// answer themselves, so a redirect is their answer to judge, not a
// place to go.
func noFollow(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
