package authflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/porthole-dev/porthole/internal/bounded"
)

// UserInfo is what Pomerium's GET /.pomerium/user says about the signed-in
// user: the user part of its JWT assertion. Every field is server data, to
// be escaped before it reaches a terminal.
type UserInfo struct {
	Subject string   `json:"sub"`
	User    string   `json:"user"`
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	Groups  []string `json:"groups"`
}

// ErrNoUserInfo means the proxy does not serve /.pomerium/user (an older
// Pomerium, or the endpoint switched off): ask /healthz instead.
var ErrNoUserInfo = errors.New("the proxy does not serve /.pomerium/user")

// maxUserInfo bounds the answer read; groups lists can be long.
const maxUserInfo = 1 << 20

// FetchUserInfo asks proxy who tok belongs to, with one request that
// also says whether the proxy accepts tok: 200 with the user (accepted),
// 401 (refused, nil info), or ErrNoUserInfo for any other answer (also
// a 200 that is no JSON user: an older proxy's page).
func (a *Authenticator) FetchUserInfo(ctx context.Context, proxy *url.URL, tok string) (*UserInfo, bool, error) {
	var hc *http.Client
	if a.Flow != nil {
		hc = a.Flow.HTTPClient
	}
	ctx, cancel := context.WithTimeout(ctx, healthzTimeout)
	defer cancel()
	resp, err := getWithToken(ctx, noFollow(hc), proxy, "/.pomerium/user", tok, "application/json")
	if err != nil {
		return nil, false, fmt.Errorf("asking %s who is signed in: %w", proxy.Host, err)
	}
	defer resp.Body.Close()
	body, err := bounded.Body(resp, maxUserInfo+1)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, false, nil
	case resp.StatusCode != http.StatusOK:
		return nil, false, ErrNoUserInfo
	case err != nil:
		return nil, false, fmt.Errorf("reading %s's answer about the user: %w", proxy.Host, err)
	case len(body) > maxUserInfo:
		return nil, false, fmt.Errorf("%s's answer about the user is over %d bytes", proxy.Host, maxUserInfo)
	}
	var info UserInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, false, fmt.Errorf("%w (its answer is no JSON user: %v)", ErrNoUserInfo, err)
	}
	return &info, true, nil
}
