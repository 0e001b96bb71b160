package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// throughput echoes total bytes through addr over conns connections at
// once (each writes and reads its share concurrently) and returns the
// one-way rate in bytes per second.
func throughput(addr string, conns int, total int64) (float64, error) {
	share := total / int64(conns)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pump(addr, share); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(share*int64(conns)) / el.Seconds(), nil
}

// pump writes n bytes on a new connection and reads the n echoed back.
func pump(addr string, n int64) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
	werr := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		var sent int64
		for sent < n {
			m, err := c.Write(buf[:min(int64(len(buf)), n-sent)])
			sent += int64(m)
			if err != nil {
				werr <- err
				return
			}
		}
		werr <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.CopyBuffer(io.Discard, c, make([]byte, 64<<10))
	if err == nil && got != n {
		err = fmt.Errorf("echo returned %d of %d bytes", got, n)
	}
	return errors.Join(err, <-werr)
}

// ttfb times n new connections one after another: dial, one byte out,
// the byte back.
func ttfb(addr string, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	one := []byte{7}
	buf := make([]byte, 1)
	for range n {
		start := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err = c.Write(one); err == nil {
			_, err = io.ReadFull(c, buf)
		}
		out = append(out, time.Since(start))
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("first byte: %w", err)
		}
	}
	return out, nil
}

// roundTrips times n one-byte echoes on one open connection: the data
// path alone, the floor under a new connection's first byte.
func roundTrips(addr string, n int) ([]time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
	out := make([]time.Duration, 0, n)
	one, buf := []byte{7}, make([]byte, 1)
	for range n + 1 {
		start := time.Now()
		if _, err := c.Write(one); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return nil, fmt.Errorf("round trip: %w", err)
		}
		out = append(out, time.Since(start))
	}
	return out[1:], nil // the first includes opening the tunnel
}

// holdIdle opens n connections (each echoing one byte, so it reaches the
// echo) and keeps them open until release is called.
func holdIdle(addr string, n int) (release func(), err error) {
	conns := make([]net.Conn, 0, n)
	release = func() {
		for _, c := range conns {
			c.Close()
		}
	}
	const batch = 50
	for i := 0; i < n; i += batch {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var firstErr error
		for range min(batch, n-i) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", addr)
				if err == nil {
					_ = c.SetDeadline(time.Now().Add(60 * time.Second))
					if _, err = c.Write([]byte{1}); err == nil {
						_, err = io.ReadFull(c, make([]byte, 1))
					}
					_ = c.SetDeadline(time.Time{})
				}
				mu.Lock()
				defer mu.Unlock()
				if c != nil {
					conns = append(conns, c)
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			release()
			return nil, fmt.Errorf("idle connection %d: %w", i, firstErr)
		}
	}
	return release, nil
}
