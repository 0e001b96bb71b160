package portalclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/portalclient"
)

// fakeAuth counts sign-ins and hands out "tok<N>".
type fakeAuth struct {
	cached  string
	signIns atomic.Int64
	stales  []string
}

func (a *fakeAuth) CachedToken(context.Context, *url.URL) (string, error) { return a.cached, nil }

func (a *fakeAuth) SignIn(_ context.Context, _ *url.URL, stale string, notify func(string)) (string, error) {
	a.stales = append(a.stales, stale)
	a.cached = fmt.Sprintf("tok%d", a.signIns.Add(1))
	return a.cached, nil
}

const routesJSON = `{"routes":[{"id":"c7cc6f3995e8c6e4","name":"postgres","type":"tcp","from":"tcp+https://postgres.example.com:5432","description":"","connect_command":"pomerium-cli tcp postgres.example.com:5432","logo_url":""}]}`

func TestRoutes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cached      string
		handler     func(w http.ResponseWriter, r *http.Request)
		maxBody     int64
		wantRoutes  int
		wantErr     string
		wantSignIns int64
		check       func(t *testing.T, err error)
	}{
		{
			name: "cached token accepted", cached: "tok0", wantRoutes: 1,
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer Pomerium-tok0" || r.Header.Get("Accept") != "application/json" {
					http.Error(w, `{"error":"Unauthenticated"}`, http.StatusUnauthorized)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, routesJSON)
			},
		},
		{
			name: "302 signs in once, not followed", wantRoutes: 1, wantSignIns: 1,
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer Pomerium-tok1" {
					http.Redirect(w, r, "/.pomerium/sign_in", http.StatusFound)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, routesJSON)
			},
		},
		{
			name: "401 forever: one sign-in then a typed error", cached: "old", wantSignIns: 1,
			wantErr: "still asks to sign in after signing in (401): Unauthenticated",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error":"Unauthenticated"}`)
			},
			check: func(t *testing.T, err error) {
				if !portalclient.IsUnauthorized(err) {
					t.Fatalf("IsUnauthorized(%v) = false; want true", err)
				}
				var he *portalclient.HTTPError
				if !errors.As(err, &he) || he.StatusCode != 401 || he.Message != "Unauthenticated" {
					t.Fatalf("HTTPError: got %+v", he)
				}
			},
		},
		{
			name: "HTML page", cached: "t", wantErr: "did not answer with the routes JSON (got text/html; charset=utf-8): is this a Pomerium proxy with the routes portal enabled?",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, "<html>welcome</html>")
			},
		},
		{
			name: "404", cached: "t", wantErr: "/.pomerium/api/v1/routes has no routes portal (404)",
			handler: http.NotFound,
			check: func(t *testing.T, err error) {
				if !portalclient.IsNotFound(err) {
					t.Fatalf("IsNotFound(%v) = false", err)
				}
			},
		},
		{
			name: "invalid JSON", cached: "t", wantErr: "invalid JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"routes":[`)
			},
		},
		{
			name: "no routes field", cached: "t", wantErr: `no "routes" field`,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"error":"oops"}`)
			},
		},
		{
			name: "too large", cached: "t", maxBody: 64, wantErr: "answer too large",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, routesJSON)
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, portalclient.ErrTooLarge) {
					t.Fatalf("errors.Is(ErrTooLarge) = false for %v", err)
				}
			},
		},
		{
			name: "empty list", cached: "t",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"routes":[]}`)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != portalclient.RoutesPath {
					http.Error(w, "wrong path "+r.URL.Path, http.StatusTeapot)
					return
				}
				tc.handler(w, r)
			}))
			defer srv.Close()
			auth := &fakeAuth{cached: tc.cached}
			c := &portalclient.Client{HTTPClient: srv.Client(), Auth: auth, MaxBody: tc.maxBody}
			u, _ := url.Parse(srv.URL + "/some/path")
			routes, err := c.Routes(context.Background(), u, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v; want an error containing %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("got error %v", err)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			if len(routes) != tc.wantRoutes {
				t.Fatalf("routes: got %d; want %d", len(routes), tc.wantRoutes)
			}
			if tc.wantErr == "" && routes == nil {
				t.Fatal("routes: got nil; want a non-nil slice")
			}
			if tc.wantRoutes == 1 && (routes[0].Name != "postgres" || routes[0].ConnectCommand != "pomerium-cli tcp postgres.example.com:5432") {
				t.Fatalf("route: got %+v", routes[0])
			}
			if got := auth.signIns.Load(); got != tc.wantSignIns {
				t.Fatalf("sign-ins: got %d; want %d", got, tc.wantSignIns)
			}
			if tc.wantSignIns == 1 && auth.stales[0] != tc.cached {
				t.Fatalf("stale token passed to SignIn: got %q; want %q", auth.stales[0], tc.cached)
			}
		})
	}
}

// cutAtTimeout answers 200 with a JSON content type and a body that ends
// cleanly the moment the request's deadline passes: what an HTTP/1.1
// chunked body can do when the client's timeout closes the connection
// and the server's last chunk is read anyway.
type cutAtTimeout struct{}

func (cutAtTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{"Content-Type": {"application/json"}},
		Body: &cutBody{ctx: req.Context()}, Request: req}, nil
}

type cutBody struct {
	ctx  context.Context
	sent bool
}

func (b *cutBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, `{"routes":[`), nil
	}
	<-b.ctx.Done()
	return 0, io.EOF
}

func (b *cutBody) Close() error { return nil }

// A routes answer cut off by the client's timeout is reported as the
// timeout, not as JSON the proxy got wrong.
func TestRoutesCutByTheTimeout(t *testing.T) {
	c := &portalclient.Client{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond, Transport: cutAtTimeout{}}}
	u, _ := url.Parse("https://portal.example")
	_, err := c.Routes(context.Background(), u, nil)
	var fe *portalclient.FormatError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &fe) {
		t.Fatalf("Routes = %v; want the deadline, not a format error", err)
	}
}
