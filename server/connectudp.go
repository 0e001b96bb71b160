package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/porthole-dev/porthole/internal/h2xconnect" // HTTP/2 extended CONNECT for connect-udp
	"github.com/porthole-dev/porthole/internal/masque"
)

// isConnectUDP reports whether r asks for a UDP tunnel: HTTP/1.1 with
// Upgrade: connect-udp, or HTTP/2 extended CONNECT with :protocol
// connect-udp (RFC 9298).
func isConnectUDP(r *http.Request) bool {
	if r.Method == http.MethodConnect {
		return r.Header.Get(":protocol") == masque.Protocol
	}
	if r.Method != http.MethodGet || r.ProtoMajor != 1 {
		return false
	}
	for _, v := range r.Header.Values("Upgrade") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), masque.Protocol) {
				return true
			}
		}
	}
	return false
}

// handleConnectUDP serves a connect-udp request. The target comes from
// the path; the Host header names the destination too but is not used
// for routing. Status codes are those of CONNECT: 200 (never 101, which
// pomerium-cli treats as an error), 302 to sign in, 403, 404, 503.
func (s *Server) handleConnectUDP(w http.ResponseWriter, r *http.Request) {
	host, port, err := masque.ParsePath(r.URL.EscapedPath())
	if err != nil {
		http.Error(w, "bad connect-udp request: "+err.Error(), http.StatusBadRequest)
		return
	}
	// The target's trailing dot goes as the Host's does (stripHostDot).
	authority := stripHostDot(masque.Authority(host, port))
	rt := s.table.Load().MatchUDP(authority)
	if rt == nil {
		s.log.Info("connect-udp: no route", "authority", authority)
		http.Error(w, "no route for "+authority, http.StatusNotFound)
		return
	}
	a, ok := s.admitTunnel(w, r, rt)
	if !ok {
		return
	}
	// A UDP "dial" only resolves and binds; an unreachable upstream shows
	// later as errors on the socket, which end the tunnel.
	u := rt.Pool.Pick(clientIP(r), nil)
	if u == nil {
		http.Error(w, "no healthy upstream for "+rt.Name, http.StatusServiceUnavailable)
		return
	}
	defer u.Begin()()
	up, err := (&net.Dialer{Timeout: tunnelDialTimeout(rt)}).DialContext(r.Context(), "udp", u.URL.Host)
	if err != nil {
		rt.Pool.Fail(u, err)
		logErr(s.log, "connect-udp: dialing upstream", err, "route", rt.Name)
		http.Error(w, "upstream of "+rt.Name+" is unreachable", http.StatusServiceUnavailable)
		return
	}
	defer up.Close()
	var client atomic.Pointer[io.Closer]
	release, ok := s.trackTunnel(func() {
		up.Close()
		if c := client.Load(); c != nil {
			(*c).Close()
		}
	})
	if !ok {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer release()
	user := ""
	if a.session != nil {
		user = a.session.Email
	}
	s.log.Info("udp tunnel open", "route", rt.Name, "user", user, "proto", r.Proto)
	var in, out, pin, pout int64
	closed := s.metrics.TunnelOpened(rt.Name)
	defer func() { closed(in, out) }()
	start := time.Now()
	streamDeadlines(w) // bound by idle_timeout, not timeout_read/timeout_write
	var stream io.ReadWriter
	var flush func() error
	if r.ProtoMajor == 1 {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			logErr(s.log, "connect-udp: hijack", err)
			http.Error(w, "cannot hijack", http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		var c io.Closer = conn
		client.Store(&c)
		conn.SetDeadline(time.Time{})
		if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nCapsule-Protocol: ?1\r\n\r\n"); err != nil {
			return
		}
		stream = struct {
			io.Reader
			io.Writer
		}{brw.Reader, conn}
		flush = func() error { return nil }
	} else {
		var body io.Closer = r.Body
		client.Store(&body)
		w.Header().Set("Capsule-Protocol", "?1")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		if err := rc.Flush(); err != nil {
			return
		}
		stream = struct {
			io.Reader
			io.Writer
		}{r.Body, w}
		flush = rc.Flush
	}
	in, out, pin, pout = relayUDP(r.Context(), stream, flush, up, rt.EffectiveIdleTimeout(), func() {
		if c := client.Load(); c != nil {
			(*c).Close()
		}
	})
	s.log.Info("udp tunnel closed", "route", rt.Name, "user", user, "bytes_in", in, "bytes_out", out,
		"datagrams_in", pin, "datagrams_out", pout, "duration", time.Since(start).Round(time.Millisecond))
}

// relayUDP carries DATAGRAM capsules from stream to up as datagrams and
// datagrams from up back as capsules until either side ends or nothing
// moved for idle (0: never). closeClient ends the client's stream.
func relayUDP(ctx context.Context, stream io.ReadWriter, flush func() error, up net.Conn, idle time.Duration, closeClient func()) (in, out, pin, pout int64) {
	stop := func() { closeClient(); up.Close() }
	act := newActivity(idle, stop)
	defer act.stop()
	done := context.AfterFunc(ctx, stop)
	defer done()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stop()
		buf := make([]byte, masque.MaxPayload+1)
		capsule := make([]byte, 0, len(buf)+16)
		for {
			n, err := up.Read(buf)
			if err != nil {
				// ECONNREFUSED from an ICMP port unreachable is not an
				// end: UDP upstreams come and go.
				if errors.Is(err, net.ErrClosed) || !isRefused(err) {
					return
				}
				continue
			}
			act.touch()
			capsule = masque.AppendDatagram(capsule[:0], buf[:n])
			if _, err := stream.Write(capsule); err != nil {
				return
			}
			if err := flush(); err != nil {
				return
			}
			out += int64(n)
			pout++
		}
	}()
	cr := masque.NewReader(bufio.NewReaderSize(stream, 64<<10))
	for {
		p, err := cr.ReadDatagram()
		if err != nil {
			break
		}
		act.touch()
		if _, err := up.Write(p); err != nil && !isRefused(err) {
			break
		}
		in += int64(len(p))
		pin++
	}
	stop()
	wg.Wait()
	return in, out, pin, pout
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
