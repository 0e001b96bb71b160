package portalclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/porthole-dev/porthole/internal/termtext/termtest"
)

func fakeResponse(status int, contentType string, body []byte) *http.Response {
	u, _ := url.Parse("https://proxy.example.com" + RoutesPath)
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status),
		Header:  http.Header{"Content-Type": {contentType}},
		Body:    io.NopCloser(bytes.NewReader(body)),
		Request: &http.Request{URL: u},
	}
}

// FuzzRoutesJSON: whatever a portal answers, decoding never panics, is
// bounded by its cap, and an error message quoting the body stays one
// escaped line.
func FuzzRoutesJSON(f *testing.F) {
	f.Add([]byte(`{"routes":[{"id":"1","name":"db","type":"tcp","from":"tcp+https://db:5432"}]}`), "application/json", 200)
	f.Add([]byte(`{"routes":null}`), "application/json", 200)
	f.Add([]byte(`{"error":"denied\u001b]0;x\u0007"}`), "application/json", 403)
	f.Add([]byte("<html>\x1b[2J</html>"), "text/html", 500)
	f.Add([]byte(strings.Repeat(`{"routes":[`, 1000)), "application/problem+json", 200)
	for _, s := range termtest.Samples {
		b, _ := json.Marshal(s)
		f.Add([]byte(`{"routes":[{"name":`+string(b)+`}]}`), "application/json", 200)
		f.Add([]byte(s), "text/plain", 502)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string, status int) {
		if status < 100 || status > 999 {
			status = 200
		}
		resp := fakeResponse(status, contentType, body)
		resp.Status = contentType // the reason phrase is the server's too
		if status == 200 {
			const max = 4 << 10
			doc, err := decodeJSON[routesDoc](fakeResponse(status, contentType, body), max)
			if len(body) > max && err == nil {
				t.Fatalf("decoded %d bytes past the %d cap", len(body), max)
			}
			if err != nil && errors.Is(err, ErrTooLarge) != (len(body) > max) && len(body) > max {
				t.Fatalf("too large body: %v", err)
			}
			if err == nil && doc == nil {
				t.Fatal("nil doc without error")
			}
			return
		}
		he := httpError(resp, "https://proxy.example.com")
		msg := he.Error()
		if err := termtest.Check(msg, false); err != nil || strings.Contains(msg, "\n") {
			t.Fatalf("error message not one escaped line: %q (%v)", msg, err)
		}
	})
}
