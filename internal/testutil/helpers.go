package testutil

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"sync"
	"testing"
	"time"
)

// FollowSignIn is a "browser" for a dev server started with AutoLogin, in
// the shape of a sign-in flow's URL opener: it returns at once, as a real
// browser does, and follows u's redirects in the background (trusting the
// dev CA) down to the client's loopback callback.
func (d *DevServer) FollowSignIn(ctx context.Context, u string) error {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: d.CAPool},
	}}
	go func() {
		defer hc.CloseIdleConnections()
		req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, u, nil)
		if err != nil {
			return
		}
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}()
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
