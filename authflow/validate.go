package authflow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// healthzTimeout bounds the token check: a slow proxy must not hold up a
// kubectl call for long.
const healthzTimeout = 30 * time.Second

// ValidToken is Token with the cached token checked by the proxy first:
// GET /healthz with the token answers 401 when the proxy no longer
// accepts it (a restart, a revoked session), and a fresh sign-in follows.
// This is how pomerium-cli's auth and k8s exec-credential check theirs.
func (a *Authenticator) ValidToken(ctx context.Context, proxy *url.URL, notify func(string)) (string, error) {
	tok, err := a.CachedToken(ctx, proxy)
	if err != nil {
		return "", err
	}
	if tok == "" {
		return a.SignIn(ctx, proxy, "", notify)
	}
	ok, err := a.Accepted(ctx, proxy, tok)
	if err != nil {
		return "", err
	}
	if ok {
		return tok, nil
	}
	return a.SignIn(ctx, proxy, tok, notify)
}

// Accepted asks proxy's /healthz whether it accepts tok. Only a 401 is a
// refusal: a proxy without the check (any other answer) is trusted.
func (a *Authenticator) Accepted(ctx context.Context, proxy *url.URL, tok string) (bool, error) {
	hc := http.DefaultClient
	if a.Flow != nil && a.Flow.HTTPClient != nil {
		hc = a.Flow.HTTPClient
	}
	ctx, cancel := context.WithTimeout(ctx, healthzTimeout)
	defer cancel()
	resp, err := getWithToken(ctx, hc, proxy, "/healthz", tok, "")
	if err != nil {
		return false, fmt.Errorf("checking the cached token with %s: %w", proxy.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return resp.StatusCode != http.StatusUnauthorized, nil
}

// getWithToken GETs path at proxy (its query and fragment dropped) with
// tok as the Pomerium bearer token and accept as the Accept header ("":
// none). hc decides whether redirects are followed.
func getWithToken(ctx context.Context, hc *http.Client, proxy *url.URL, path, tok, accept string) (*http.Response, error) {
	u := proxy.JoinPath(path)
	u.RawQuery, u.Fragment = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer Pomerium-"+tok)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return hc.Do(req)
}

// Expiry is the exp of a JWT token, false when tok is no readable JWT
// or has none. The signature is not checked.
func Expiry(tok string) (time.Time, bool) { return expiry(tok) }
