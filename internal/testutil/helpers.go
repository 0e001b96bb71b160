package testutil

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Browse is a user's browser for a proxy whose sign-in needs no page (a
// dev server started with AutoLogin): a cookie-keeping client trusting
// pool that follows every redirect from u, the last of which lands on the
// client's loopback callback. It returns that last response and its body.
func Browse(ctx context.Context, pool *x509.CertPool, u string) (*http.Response, []byte, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// FollowSignIn is Browse against d, in the shape of a sign-in flow's URL
// opener: it returns at once, as a real browser does, and follows u in
// the background.
func (d *DevServer) FollowSignIn(ctx context.Context, u string) error {
	go func() { _, _, _ = Browse(context.WithoutCancel(ctx), d.CAPool, u) }()
	return nil
}

// SyncBuffer is a bytes.Buffer safe for a writer (a command's output) and
// a test polling it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitMatch polls read (a command's output) until re matches and returns
// the submatches, failing the test after two minutes, or once done (the
// command ended; nil when it cannot) is closed without a match.
func WaitMatch(t testing.TB, what string, read func() string, re *regexp.Regexp, done <-chan struct{}) []string {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := re.FindStringSubmatch(read()); m != nil {
			return m
		}
		select {
		case <-deadline:
			t.Fatalf("%s: no match for %s within 2m; got:\n%s", what, re, read())
		case <-done:
			if m := re.FindStringSubmatch(read()); m != nil {
				return m
			}
			t.Fatalf("%s: ended before %s appeared; got:\n%s", what, re, read())
		case <-tick.C:
		}
	}
}
