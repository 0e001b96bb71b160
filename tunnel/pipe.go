package tunnel

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// pipe copies both ways until both directions end. Each direction is
// half-closed on its own (an EOF from one side becomes CloseWrite on the
// other), so protocols that shut down one way keep working; an error in
// either direction ends both. It returns the bytes sent (local to
// upstream) and received.
func (t *Tunnel) pipe(local net.Conn, up upstream) (int64, int64, error) {
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	abort := func(e error) {
		once.Do(func() {
			firstErr = e
			local.Close()
			up.Close()
		})
	}
	var sent, received int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		var err error
		sent, err = copyCounting(up, local, &t.sent)
		if err != nil {
			abort(err)
			return
		}
		if err := up.CloseWrite(); err != nil {
			abort(err)
		}
	}()
	go func() {
		defer wg.Done()
		var err error
		received, err = copyCounting(local, up, &t.receivd)
		if err != nil {
			abort(err)
			return
		}
		if cw, ok := local.(interface{ CloseWrite() error }); ok {
			if err := cw.CloseWrite(); err != nil {
				abort(err)
			}
			return
		}
		abort(nil)
	}()
	wg.Wait()
	if errors.Is(firstErr, net.ErrClosed) || errors.Is(firstErr, io.ErrClosedPipe) {
		firstErr = nil
	}
	return sent, received, firstErr
}

// copyCounting is io.Copy that keeps the tunnel's live byte counter up to
// date as it goes.
func copyCounting(dst io.Writer, src io.Reader, total *atomic.Int64) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		nr, rerr := src.Read(buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			n += int64(nw)
			total.Add(int64(nw))
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}
