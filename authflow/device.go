package authflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// Device-code sign-in (RFC 8628) against pomerium-server: no browser on
// this machine and no loopback callback, which SSH sessions and
// containers lack.
const (
	deviceCodePath  = "/.pomerium/api/v1/device/code"
	deviceTokenPath = "/.pomerium/api/v1/device/token"
	maxDeviceAnswer = 64 << 10
)

// validUserCode reports whether s looks like an RFC 8628 user code as
// the login API gives it: 4-16 of A-Z, 0-9 and '-'.
func validUserCode(s string) bool {
	if len(s) < 4 || len(s) > 16 {
		return false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

type deviceCode struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

type deviceAnswer struct {
	AccessToken string `json:"access_token"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// deviceLogin asks the proxy for a device code, prints where to enter it
// (stderr), and polls until the user confirms it on any device.
func (f *Flow) deviceLogin(ctx context.Context, proxy *url.URL, notify func(string)) (string, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var dc deviceCode
	api := proxy.Scheme + "://" + proxy.Host + deviceCodePath
	status, err := f.postForm(ctx, api, nil, &dc)
	switch {
	case err != nil:
		return "", fmt.Errorf("asking %s for a device code: %w", api, err)
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return "", fmt.Errorf("%s has no device sign-in (%d): this proxy needs the browser sign-in (drop --device)", api, status)
	case status != http.StatusOK:
		return "", fmt.Errorf("%s refused a device code (%d)", api, status)
	}
	verify, err := url.Parse(dc.VerificationURI)
	if err != nil || verify.Scheme != "https" || verify.Host == "" || dc.DeviceCode == "" || !validUserCode(dc.UserCode) {
		return "", fmt.Errorf("%s answered something that is not a device code", api)
	}
	complete := dc.VerificationURIComplete
	if u, err := url.Parse(complete); err != nil || u.Scheme != "https" || u.Host != verify.Host {
		complete = ""
	}
	if f.Stderr != nil {
		fmt.Fprintf(f.Stderr, "To sign in, open on any device:\n\n  %s\n\nand enter the code:  %s\n\n", termtext.Escape(verify.String()), termtext.Escape(dc.UserCode))
		if complete != "" {
			fmt.Fprintf(f.Stderr, "(or open %s)\n\n", termtext.Escape(complete))
		}
	}
	if notify != nil {
		notify(firstNonEmpty(complete, verify.String()))
	}
	interval := time.Duration(max(dc.Interval, 1)) * time.Second
	if dc.ExpiresIn > 0 {
		timeout = min(timeout, time.Duration(dc.ExpiresIn)*time.Second)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tokenAPI := proxy.Scheme + "://" + proxy.Host + deviceTokenPath
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc.DeviceCode}}
	for {
		wait := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			wait.Stop()
			return "", fmt.Errorf("device sign-in canceled: %w", ctx.Err())
		case <-deadline.C:
			wait.Stop()
			return "", fmt.Errorf("nobody confirmed code %s within %s (use --login-timeout to wait longer): %w", dc.UserCode, timeout, context.DeadlineExceeded)
		case <-wait.C:
		}
		var ans deviceAnswer
		status, err := f.postForm(ctx, tokenAPI, form, &ans)
		if err != nil {
			return "", fmt.Errorf("polling %s: %w", tokenAPI, err)
		}
		switch {
		case status == http.StatusOK && ans.AccessToken != "":
			return ans.AccessToken, nil
		case ans.Error == "authorization_pending":
		case ans.Error == "slow_down":
			interval += 5 * time.Second
		case ans.Error == "access_denied":
			return "", errors.New("the device sign-in was declined")
		case ans.Error == "expired_token":
			return "", errors.New("the device code expired before it was confirmed; run the command again")
		default:
			return "", fmt.Errorf("%s refused the device sign-in (%d %s)", tokenAPI, status, termtext.Escape(ans.Error))
		}
	}
}

// postForm POSTs form (nil: empty) and decodes a bounded JSON answer
// into v whatever the status.
func (f *Flow) postForm(ctx context.Context, u string, form url.Values, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := noFollow(f.HTTPClient).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := bounded.Body(resp, maxDeviceAnswer)
	if err != nil {
		return resp.StatusCode, err
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, v); err != nil {
			return resp.StatusCode, fmt.Errorf("decoding the answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
