package upstreams

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestUpstreams(t *testing.T) {
	s, err := Start(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	t.Run("echo with half-close", func(t *testing.T) {
		c, err := net.Dial("tcp", s.EchoAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		io.WriteString(c, "abc")
		c.(*net.TCPConn).CloseWrite()
		got, err := io.ReadAll(c)
		if err != nil || string(got) != "abc" {
			t.Errorf("got %q %v; want abc then EOF", got, err)
		}
	})
	t.Run("verify reports headers", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.VerifyAddr+"/p?q=1", nil)
		req.Header.Set("X-Pomerium-Jwt-Assertion", "a.b.c")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v VerifyResponse
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		if v.Path != "/p" || v.Query != "q=1" || http.Header(v.Headers).Get("X-Pomerium-Jwt-Assertion") != "a.b.c" {
			t.Errorf("got %+v; want path /p, query q=1 and the assertion header", v)
		}
	})
	t.Run("public page", func(t *testing.T) {
		resp, err := http.Get("http://" + s.PublicAddr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("got %d; want 200", resp.StatusCode)
		}
	})
}
