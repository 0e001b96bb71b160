// Package bounded reads untrusted input with a size cap and a time bound:
// files (regular files only, so a FIFO or /dev/zero cannot hang or exhaust
// the process), streams (stdin) that give up when the context ends, and
// network connections that fail when the peer stops sending (a stall).
//
//	b, err := bounded.ReadFile(path, 16<<20)         // refuses FIFOs, devices, > 16 MiB
//	b, err := bounded.ReadAll(ctx, os.Stdin, 16<<20) // Ctrl-C (ctx) ends the wait
//	b, err := bounded.Body(resp, 1<<20)              // a body cut off by the timeout is an error
//	tr.DialContext = bounded.StallDialer(d.DialContext, 30*time.Second)
package bounded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
)

// ErrTooLarge is returned when input exceeds its cap.
var ErrTooLarge = errors.New("too large")

// ErrNotRegular is returned for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ReadFile reads path if it is a regular file of at most max bytes. It
// opens without blocking, so a FIFO with no writer is refused at once.
func ReadFile(path string, max int64) ([]byte, error) {
	return readFile(path, max, false)
}

// ReadFileOrPipe is ReadFile that also takes a pipe, for secrets handed
// over by process substitution (--service-account-file <(vault ...)),
// read up to max bytes; devices and directories are still refused.
func ReadFileOrPipe(path string, max int64) ([]byte, error) {
	return readFile(path, max, true)
}

func readFile(path string, max int64, pipes bool) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	isPipe := st.Mode()&fs.ModeNamedPipe != 0
	if !st.Mode().IsRegular() && !(pipes && isPipe) {
		return nil, fmt.Errorf("%s is %s, %w: give the path of a file", path, kind(st.Mode()), ErrNotRegular)
	}
	if !isPipe && st.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, %w (the limit is %d)", path, st.Size(), ErrTooLarge, max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s grew past %d bytes while read, %w", path, max, ErrTooLarge)
	}
	return b, nil
}

// ReadAll reads r to EOF, at most max bytes. It returns ctx's error as
// soon as ctx ends even while a read is blocked (stdin at a terminal, a
// pipe whose writer never closes); the blocked read is abandoned.
func ReadAll(ctx context.Context, r io.Reader, max int64) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, max+1))
		ch <- result{b, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.err != nil {
			return nil, res.err
		}
		if int64(len(res.b)) > max {
			return nil, fmt.Errorf("input is more than %d bytes, %w", max, ErrTooLarge)
		}
		return res.b, nil
	}
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// Body reads at most n bytes of resp's body (the caller closes it). A
// body that ends without an error once the request's context is done
// (the http.Client's Timeout is a deadline on it) returns that context's
// error: over HTTP/1.1, a chunked body the client's timeout cuts off can
// end as if complete, when the server, seeing the client close, sends
// its last chunk before the connection goes, and a cut answer would pass
// for a short one.
func Body(resp *http.Response, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, n))
	if err == nil && resp.Request != nil {
		if cerr := context.Cause(resp.Request.Context()); cerr != nil {
			return b, cerr
		}
	}
	return b, err
}
