package authflow_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// loginServer is a fake proxy: the login API and a sign-in page that
// redirects straight to the callback with a fresh token.
type loginServer struct {
	srv    *httptest.Server
	URL    *url.URL
	logins atomic.Int64
	serial atomic.Int64
	status int // login API status; 0 means 200
}

func startLoginServer(t testing.TB) *loginServer {
	t.Helper()
	ls := &loginServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/.pomerium/api/v1/login", func(w http.ResponseWriter, r *http.Request) {
		ls.logins.Add(1)
		if ls.status != 0 {
			http.Error(w, "pomerium_redirect_uri not allowed", ls.status)
			return
		}
		ru := r.URL.Query().Get("pomerium_redirect_uri")
		if !strings.HasPrefix(ru, "http://127.0.0.1:") {
			http.Error(w, "bad redirect uri", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "https://%s/.pomerium/sign_in?%s", r.Host, url.Values{"redirect": {ru}}.Encode())
	})
	mux.HandleFunc("/.pomerium/sign_in", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("redirect")+"/?pomerium_jwt="+jwtWithExp(time.Now().Add(time.Hour), ls.serial.Add(1)), http.StatusFound)
	})
	ls.srv = httptest.NewTLSServer(mux)
	t.Cleanup(ls.srv.Close)
	ls.URL, _ = url.Parse(ls.srv.URL)
	return ls
}

// browse is the "browser": it follows redirects to the callback.
func (ls *loginServer) browse(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := ls.srv.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "Sign-in complete") {
		return fmt.Errorf("callback page: got %q", b)
	}
	return nil
}

// jwtWithExp is an unsigned JWT-shaped token with the given exp.
func jwtWithExp(exp time.Time, serial int64) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		enc.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d,"n":%d}`, exp.Unix(), serial))) + ".sig"
}
