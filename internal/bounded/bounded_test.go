package bounded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 1025), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error
		wantText   string
	}{
		{"fifo without writer", fifo, ErrNotRegular, "a FIFO"},
		{"dev zero", "/dev/zero", ErrNotRegular, "a character device"},
		{"dev null", "/dev/null", ErrNotRegular, "a character device"},
		{"directory", dir, ErrNotRegular, "a directory"},
		{"too large", big, ErrTooLarge, "1025 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := ReadFile(tc.path, 1024); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("ReadFile(%s) = %v; want %v mentioning %q", tc.path, err, tc.want, tc.wantText)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("ReadFile(%s) hangs", tc.path)
			}
		})
	}
	if b, err := ReadFile(ok, 1024); err != nil || string(b) != "hello" {
		t.Fatalf("ReadFile(ok) = %q, %v", b, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 1); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v; want ErrNotExist", err)
	}
}

func TestReadAllCapsAndCancels(t *testing.T) {
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := ReadAll(context.Background(), f, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadAll(/dev/zero) = %v; want ErrTooLarge", err)
	}
	pr, pw := io.Pipe() // a writer that never closes
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := ReadAll(ctx, pr, 1<<20); done <- err }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadAll after cancel = %v; want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ReadAll ignores its context")
	}
	if b, err := ReadAll(context.Background(), strings.NewReader("abc"), 3); err != nil || string(b) != "abc" {
		t.Fatalf("ReadAll(abc) = %q, %v", b, err)
	}
}

func TestStallDialerFailsASilentPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, _ = c.Write([]byte("x"))   // one byte, then silence
			_, _ = io.Copy(io.Discard, c) // until the client hangs up
		}
	}()
	d := &net.Dialer{}
	c, err := StallDialer(d.DialContext, 200*time.Millisecond)(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 8)
	if n, err := c.Read(buf); n != 1 || err != nil {
		t.Fatalf("first read = %d, %v", n, err)
	}
	start := time.Now()
	_, err = c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read from a silent peer = %v; want a timeout", err)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Fatalf("stall noticed after %s", el)
	}
}

// Process substitution hands over a pipe: ReadFileOrPipe takes it, capped,
// and still refuses devices.
func TestReadFileOrPipe(t *testing.T) {
	pipeWith := func(data string) string {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if _, err := w.WriteString(data); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	}
	if b, err := ReadFileOrPipe(pipeWith("secret\n"), 64); err != nil || string(b) != "secret\n" {
		t.Fatalf("ReadFileOrPipe(pipe) = %q, %v", b, err)
	}
	if _, err := ReadFileOrPipe(pipeWith(strings.Repeat("x", 65)), 64); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFileOrPipe(65 bytes, cap 64) = %v; want ErrTooLarge", err)
	}
	if _, err := ReadFileOrPipe("/dev/zero", 64); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("ReadFileOrPipe(/dev/zero) = %v; want ErrNotRegular", err)
	}
	if _, err := ReadFile(pipeWith("x"), 64); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("ReadFile(pipe) = %v; want ErrNotRegular (imports take regular files only)", err)
	}
}

// endsAtDone is a body that holds its bytes until ctx is done and then
// ends cleanly: an HTTP/1.1 chunked body whose last chunk, sent as the
// client's timeout closed the connection, was read anyway.
type endsAtDone struct {
	ctx  context.Context
	data string
}

func (b *endsAtDone) Read(p []byte) (int, error) {
	<-b.ctx.Done()
	if b.data == "" {
		return 0, io.EOF
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *endsAtDone) Close() error { return nil }

func TestBody(t *testing.T) {
	live := context.Background()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	why := errors.New("the overall timeout")
	caused, cancelCause := context.WithCancelCause(context.Background())
	cancelCause(why)
	short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	tests := []struct {
		name    string
		ctx     context.Context
		body    io.ReadCloser
		n       int64
		want    string
		wantErr error
	}{
		{"a whole body", live, io.NopCloser(strings.NewReader(`{"routes":[]}`)), 100, `{"routes":[]}`, nil},
		{"cut at n", live, io.NopCloser(strings.NewReader("abcdef")), 4, "abcd", nil},
		{"ended after the request was canceled", canceled, io.NopCloser(strings.NewReader(`{"rou`)), 100, `{"rou`, context.Canceled},
		{"ended after a cancel with a cause", caused, io.NopCloser(strings.NewReader(`{"rou`)), 100, `{"rou`, why},
		{"ended cleanly as the deadline passed", short, &endsAtDone{ctx: short, data: "   "}, 100, "   ", context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(tt.ctx, http.MethodGet, "https://portal.example/", nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Body(&http.Response{Body: tt.body, Request: req}, tt.n)
			if string(b) != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Body = %q, %v; want %q, %v", b, err, tt.want, tt.wantErr)
			}
		})
	}
}
