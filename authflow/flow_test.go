package authflow_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/internal/testutil"
)

func TestLogin(t *testing.T) {
	ls := startLoginServer(t)
	for _, tc := range []struct {
		name       string
		withOpener bool
		wantText   string
	}{
		{"browser opened", true, "Your browser has been opened to visit:\n\n  https://"},
		{"no browser", false, "Open this URL to sign in:\n\n  https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr testutil.SyncBuffer
			f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &stderr, Timeout: time.Minute}
			var opened []string
			if tc.withOpener {
				f.OpenURL = func(ctx context.Context, u string) error {
					opened = append(opened, u)
					go ls.browse(context.Background(), u)
					return nil
				}
			}
			var notified string
			notify := func(u string) {
				notified = u
				if !tc.withOpener {
					// The user copies the printed URL into a browser.
					go ls.browse(context.Background(), u)
				}
			}
			tok, err := f.Login(context.Background(), ls.URL, notify)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if authflow.Expired(tok) || strings.Count(tok, ".") != 2 {
				t.Fatalf("token: got %q; want a fresh JWT", tok)
			}
			if !strings.Contains(stderr.String(), tc.wantText) || !strings.Contains(stderr.String(), notified) {
				t.Fatalf("stderr: got %q; want it to contain %q and the URL %q", stderr.String(), tc.wantText, notified)
			}
			if !strings.HasPrefix(notified, ls.srv.URL+"/.pomerium/sign_in?") {
				t.Fatalf("notify: got %q; want the sign-in URL", notified)
			}
			if tc.withOpener && (len(opened) != 1 || opened[0] != notified) {
				t.Fatalf("opened: got %q; want [%q]", opened, notified)
			}
			if strings.Contains(stderr.String(), tok) {
				t.Fatal("stderr holds the token")
			}
		})
	}
}

// TestCallbackRefusals: the callback only takes GET / with pomerium_jwt,
// and it is shut down when Login returns.
func TestCallbackRefusals(t *testing.T) {
	ls := startLoginServer(t)
	var stderr testutil.SyncBuffer
	callback := make(chan string, 1)
	f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &stderr, Timeout: time.Minute,
		OpenURL: func(_ context.Context, u string) error {
			su, _ := url.Parse(u)
			callback <- su.Query().Get("redirect")
			return nil
		}}
	done := make(chan error, 1)
	go func() { _, err := f.Login(context.Background(), ls.URL, nil); done <- err }()
	cb := <-callback
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"post", http.MethodPost, "/?pomerium_jwt=x", http.StatusMethodNotAllowed},
		{"no token", http.MethodGet, "/", http.StatusBadRequest},
		{"other path", http.MethodGet, "/favicon.ico", http.StatusNotFound},
		{"token", http.MethodGet, "/?pomerium_jwt=abc", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, cb+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d; want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if err := <-done; err != nil {
		t.Fatalf("Login: %v", err)
	}
	if _, err := http.Get(cb + "/?pomerium_jwt=late"); err == nil {
		t.Fatal("callback still answers after Login returned; want it shut down")
	}
}

func TestLoginFailures(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		ls := startLoginServer(t)
		f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &testutil.SyncBuffer{}, Timeout: 100 * time.Millisecond}
		_, err := f.Login(context.Background(), ls.URL, nil)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "--login-timeout") {
			t.Fatalf("got %v; want a timeout naming --login-timeout", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ls := startLoginServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &testutil.SyncBuffer{}, Timeout: time.Minute}
		_, err := f.Login(ctx, ls.URL, func(string) { cancel() })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v; want context.Canceled", err)
		}
	})
	t.Run("login API refuses", func(t *testing.T) {
		ls := startLoginServer(t)
		ls.status = http.StatusBadRequest
		f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &testutil.SyncBuffer{}}
		_, err := f.Login(context.Background(), ls.URL, nil)
		if err == nil || !strings.Contains(err.Error(), "refused the sign-in request (400 Bad Request): pomerium_redirect_uri not allowed") {
			t.Fatalf("got %v; want the 400 and its reason", err)
		}
	})
	t.Run("no login API", func(t *testing.T) {
		ls := startLoginServer(t)
		ls.status = http.StatusNotFound
		f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &testutil.SyncBuffer{}}
		_, err := f.Login(context.Background(), ls.URL, nil)
		if err == nil || !strings.Contains(err.Error(), "has no login API (404)") {
			t.Fatalf("got %v; want no login API (404)", err)
		}
	})
}

// TestLoginWithChromium signs in through a real headless Chromium started
// by CommandOpener (as --browser-cmd would), against the fake login server.
func TestLoginWithChromium(t *testing.T) {
	chromium := testutil.Require(t, "chromium")
	ls := startLoginServer(t)
	// Not t.TempDir: Chromium may still be writing its profile while it
	// exits after the test, and that must not fail the cleanup.
	profile, err := os.MkdirTemp("", "porthole-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	cmd := chromium + " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run" +
		" --disable-background-networking --disable-component-update --disable-sync" +
		// The fake's certificate is httptest's own, trusted by a pin;
		// --dump-dom makes Chromium exit once the callback page has loaded.
		" " + testutil.ChromiumTrust(ls.srv.Certificate()) + " --dump-dom --timeout=60000 --user-data-dir=" + profile
	var stderr testutil.SyncBuffer
	f := &authflow.Flow{HTTPClient: ls.srv.Client(), OpenURL: authflow.CommandOpener(cmd), Stderr: &stderr, Timeout: 2 * time.Minute}
	tok, err := f.Login(context.Background(), ls.URL, nil)
	if err != nil {
		t.Fatalf("Login: %v (stderr %q)", err, stderr.String())
	}
	if authflow.Expired(tok) || strings.Count(tok, ".") != 2 {
		t.Fatalf("token: got %q; want a fresh JWT", tok)
	}
	if !strings.Contains(stderr.String(), "Your browser has been opened to visit:") {
		t.Fatalf("stderr: got %q", stderr.String())
	}
}

// TestLoginOpenerFails: a browser that cannot be opened is reported, and
// the printed URL still works.
func TestLoginOpenerFails(t *testing.T) {
	ls := startLoginServer(t)
	var stderr testutil.SyncBuffer
	f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &stderr, Timeout: time.Minute,
		OpenURL: authflow.CommandOpener("/nonexistent/browser")}
	const want = "Could not open a browser (running --browser-cmd \"/nonexistent/browser\""
	tok, err := f.Login(context.Background(), ls.URL, func(u string) {
		// The user copies the URL after reading that no browser came up.
		go func() {
			testutil.WaitMatch(t, "stderr", stderr.String, regexp.MustCompile(regexp.QuoteMeta(want)), nil)
			ls.browse(context.Background(), u)
		}()
	})
	if err != nil || tok == "" {
		t.Fatalf("Login: got %q, %v; want a token", tok, err)
	}
	if !strings.Contains(stderr.String(), "Waiting for sign-in in your browser (Ctrl-C to cancel, times out in 1m)") {
		t.Errorf("stderr: got %q; want the waiting line with the timeout", stderr.String())
	}
}

// TestLoginOpenerFailsNoTerminal: with nobody at a terminal, a browser
// that cannot be opened (missing program, non-zero exit) ends the sign-in
// at once, naming the command, instead of a silent wait.
func TestLoginOpenerFailsNoTerminal(t *testing.T) {
	ls := startLoginServer(t)
	for _, tc := range []struct{ cmd, want string }{
		{"/nonexistent/browser", `running --browser-cmd "/nonexistent/browser"`},
		{"/bin/false", `--browser-cmd "/bin/false" failed: exit status 1`},
		{"sh -c 'echo noisy; exit 3'", `failed: exit status 3`},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			var stderr testutil.SyncBuffer
			f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &stderr, Timeout: 10 * time.Minute,
				OpenURL: authflow.CommandOpener(tc.cmd), NoTerminal: true}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := f.Login(ctx, ls.URL, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--no-browser") {
				t.Fatalf("Login: %v; want an error holding %q and the --no-browser hint", err, tc.want)
			}
			if ctx.Err() != nil {
				t.Fatalf("Login waited for the context; want it to fail at once")
			}
			if strings.Contains(stderr.String(), "noisy") {
				t.Errorf("stderr %q holds the opener's own output; want it hidden", stderr.String())
			}
		})
	}
}

// TestLoginSpinner: on a terminal the waiting line is a spinner redrawn in
// place with the time left, and its line is cleared when the sign-in ends.
func TestLoginSpinner(t *testing.T) {
	ls := startLoginServer(t)
	var stderr, spin testutil.SyncBuffer
	f := &authflow.Flow{HTTPClient: ls.srv.Client(), Stderr: &stderr, Spinner: &spin, Timeout: 5 * time.Minute}
	tok, err := f.Login(context.Background(), ls.URL, func(u string) {
		go func() {
			testutil.WaitMatch(t, "spinner", spin.String, regexp.MustCompile(`\r. Waiting for sign-in in your browser \(Ctrl-C to cancel, times out in 4m59s\)\x1b\[K`), nil)
			ls.browse(context.Background(), u)
		}()
	})
	if err != nil || tok == "" {
		t.Fatalf("Login: %q, %v", tok, err)
	}
	if !strings.HasSuffix(spin.String(), "\r\x1b[K") {
		t.Errorf("spinner output ends %q; want the line cleared", spin.String())
	}
	if strings.Contains(stderr.String(), "Waiting for") {
		t.Errorf("stderr %q; want the waiting line only as the spinner", stderr.String())
	}
}
