// Package loopback holds the plain standard-library pieces the tests and
// the benchmark harness measure the tunnel against: a TCP echo, a
// minimal two-process relay with the tunnel's hops (plain TCP, then TLS,
// then plain TCP), each written the obvious way with io.Copy, and a bare
// stream mux of the tunnel's shape, the floor under its first byte.
package loopback

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
)

// Echo accepts on ln and echoes every connection until EOF, then
// half-closes it. It returns when ln is closed.
func Echo(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			if _, err := io.Copy(c, c); err != nil {
				return
			}
			closeWrite(c)
		}()
	}
}

// RelayServer is the relay's far half: it accepts TLS on ln and joins each
// connection to a new TCP connection to target.
func RelayServer(ln net.Listener, cfg *tls.Config, target string) error {
	return serve(tls.NewListener(ln, cfg), func() (net.Conn, error) { return net.Dial("tcp", target) })
}

// RelayClient is the relay's near half: it accepts plain TCP on ln and
// joins each connection to a new TLS connection to server (a full
// handshake every time: no session cache).
func RelayClient(ln net.Listener, cfg *tls.Config, server string) error {
	return serve(ln, func() (net.Conn, error) { return tls.Dial("tcp", server, cfg) })
}

func serve(ln net.Listener, dial func() (net.Conn, error)) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			up, err := dial()
			if err != nil {
				return
			}
			defer up.Close()
			Join(c, up)
		}()
	}
}

// Join copies a to b and b to a until both directions end, passing each
// EOF on as a half-close.
func Join(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	one := func(dst, src net.Conn) {
		defer wg.Done()
		if _, err := io.Copy(dst, src); err != nil {
			a.Close()
			b.Close()
			return
		}
		closeWrite(dst)
	}
	go one(a, b)
	go one(b, a)
	wg.Wait()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
