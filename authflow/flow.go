package authflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/porthole-dev/porthole/internal/bounded"
	"github.com/porthole-dev/porthole/internal/termtext"
)

// DefaultTimeout is how long Login waits for the browser to come back.
const DefaultTimeout = 5 * time.Minute

// Flow runs one browser sign-in.
type Flow struct {
	HTTPClient *http.Client // for the login API; carries TLS options and proxy
	// OpenURL opens the sign-in URL (github.com/pkg/browser or --browser-cmd);
	// nil opens nothing (--no-browser). The URL is printed on Stderr always.
	OpenURL func(ctx context.Context, signInURL string) error
	Stderr  io.Writer
	Timeout time.Duration // default 5 minutes
	// Device signs in with a device code (RFC 8628, --device): a URL and
	// a code to enter on any device, no local browser or callback.
	Device bool
	// NoTerminal says stdin is not a terminal: nobody is there to copy the
	// URL, so when OpenURL fails the sign-in fails at once instead of
	// waiting out the timeout.
	NoTerminal bool
	// Spinner, when set, is the raw terminal behind Stderr: the waiting
	// line becomes a spinner with the time left, redrawn in place.
	Spinner io.Writer
}

const donePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in complete</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>Sign-in complete.</h1><p>You may close this page.</p></body></html>
`

// Login asks the proxy's login API for a sign-in URL, opens it, and waits
// for pomerium_jwt on a 127.0.0.1 callback. notify (may be nil) receives
// the sign-in URL.
func (f *Flow) Login(ctx context.Context, proxy *url.URL, notify func(string)) (string, error) {
	if f.Device {
		return f.deviceLogin(ctx, proxy, notify)
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("starting the sign-in callback on 127.0.0.1: %w", err)
	}
	redirect := "http://" + ln.Addr().String()
	tokens := make(chan string, 1)
	var once sync.Once
	srv := &http.Server{
		Handler:           callbackHandler(func(tok string) { once.Do(func() { tokens <- tok }) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Let the browser get its "complete" page before the server goes.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	signInURL, err := f.signInURL(ctx, proxy, redirect)
	if err != nil {
		return "", err
	}
	// The URL is printed before anything is opened, so a user whose
	// browser does not come up can still copy it.
	if f.Stderr != nil {
		if f.OpenURL != nil {
			fmt.Fprintf(f.Stderr, "Your browser has been opened to visit:\n\n  %s\n\n", termtext.Escape(signInURL))
		} else {
			fmt.Fprintf(f.Stderr, "Open this URL to sign in:\n\n  %s\n\n", termtext.Escape(signInURL))
		}
	}
	if notify != nil {
		notify(signInURL)
	}
	// The opener runs beside the wait: a browser command that fails is
	// reported (or ends the sign-in) while the callback is already up.
	var opened chan error
	if f.OpenURL != nil {
		opened = make(chan error, 1)
		go func() { opened <- f.OpenURL(ctx, signInURL) }()
	}

	deadline := time.Now().Add(timeout)
	stop := f.waiting(deadline)
	defer stop()
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case tok := <-tokens:
			return tok, nil
		case err := <-opened:
			opened = nil
			if err == nil {
				continue
			}
			if f.NoTerminal {
				return "", fmt.Errorf("could not open a browser: %w; with no terminal on stdin nobody can open the sign-in URL: fix --browser-cmd, or use --no-browser (print the URL and wait) or --device", err)
			}
			stop()
			if f.Stderr != nil {
				fmt.Fprintf(f.Stderr, "Could not open a browser (%s): open the URL above yourself.\n", termtext.Escape(err.Error()))
			}
			stop = f.waiting(deadline)
		case <-tm.C:
			return "", fmt.Errorf("no sign-in within %s: the browser did not come back to %s (use --login-timeout to wait longer): %w", timeout, redirect, context.DeadlineExceeded)
		case <-ctx.Done():
			return "", fmt.Errorf("sign-in canceled: %w", ctx.Err())
		}
	}
}

var spinnerFrames = []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

// waiting says the sign-in is awaited: one line on Stderr, or on a
// terminal a spinner with the time left until deadline. The returned func
// stops the spinner and clears its line (safe to call twice).
func (f *Flow) waiting(deadline time.Time) func() {
	msg := func() string {
		left := time.Until(deadline).Round(time.Second)
		if left < 0 {
			left = 0
		}
		return "Waiting for sign-in in your browser (Ctrl-C to cancel, times out in " + shortDuration(left) + ")"
	}
	if f.Spinner == nil {
		if f.Stderr != nil {
			fmt.Fprintln(f.Stderr, msg())
		}
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(f.Spinner, "\r%c %s\x1b[K", spinnerFrames[i%len(spinnerFrames)], msg())
			select {
			case <-done:
				fmt.Fprint(f.Spinner, "\r\x1b[K")
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// shortDuration is d without zero units: 5m, 4m59s, 30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// callbackHandler answers GET /?pomerium_jwt=... once with the done page
// and hands the token over; anything else is refused.
func callbackHandler(deliver func(string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		tok := r.URL.Query().Get("pomerium_jwt")
		if tok == "" {
			http.Error(w, "missing pomerium_jwt", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		_, _ = io.WriteString(w, donePage)
		deliver(tok)
	})
}

// signInURL asks the login API for the URL to open.
func (f *Flow) signInURL(ctx context.Context, proxy *url.URL, redirect string) (string, error) {
	u := proxy.ResolveReference(&url.URL{Path: "/.pomerium/api/v1/login"})
	u.RawQuery = url.Values{"pomerium_redirect_uri": {redirect}}.Encode()
	api := u.Scheme + "://" + u.Host + u.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("login API %s: %w", api, err)
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := noFollow(f.HTTPClient).Do(req)
	if err != nil {
		return "", fmt.Errorf("asking %s for a sign-in URL: %w", api, err)
	}
	defer resp.Body.Close()
	body, err := bounded.Body(resp, 64<<10)
	if err != nil {
		return "", fmt.Errorf("reading the answer of %s: %w", api, err)
	}
	text := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("%s has no login API (404): is this a Pomerium proxy?", api)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return "", fmt.Errorf("%s answered with a redirect (%d) to %q instead of a sign-in URL: is this a Pomerium proxy?", api, resp.StatusCode, resp.Header.Get("Location"))
	default:
		return "", fmt.Errorf("%s refused the sign-in request (%s): %s", api, resp.Status, firstLine(text))
	}
	su, err := url.Parse(text)
	if err != nil || (su.Scheme != "https" && su.Scheme != "http") || su.Host == "" || strings.ContainsAny(text, " \n") {
		return "", fmt.Errorf("%s answered %q, not a sign-in URL: is this a Pomerium proxy?", api, firstLine(text))
	}
	return text, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

var errEmptyCommand = errors.New("--browser-cmd is empty")
