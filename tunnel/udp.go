package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porthole-dev/porthole/internal/adaptprocs"
	"github.com/porthole-dev/porthole/internal/masque"
)

// DefaultUDPIdleTimeout ends a local peer's tunnel after this long
// without a datagram either way (RFC 9298 asks for at least 2 minutes).
const DefaultUDPIdleTimeout = 2 * time.Minute

// maxUDPPeers bounds the tunnels one listener keeps open at once; the
// datagrams of further peers are dropped until one ends.
const maxUDPPeers = 1024

// udpQueue is how many datagrams a peer may have waiting while its
// tunnel opens or the proxy is slow; more are dropped, as UDP may.
const udpQueue = 256

// UDPOptions tune a UDP listener.
type UDPOptions struct {
	// IdleTimeout ends a peer's tunnel after no datagram either way
	// (default DefaultUDPIdleTimeout).
	IdleTimeout time.Duration
}

// UDPListener carries the datagrams of every local peer (source address)
// through a tunnel of its own (connect-udp) to the destination.
type UDPListener struct {
	t      *Tunnel
	pc     net.PacketConn
	idle   time.Duration
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup

	dropped atomic.Int64

	mu      sync.Mutex
	peers   map[string]*udpPeer
	err     error
	stopped bool
}

type udpPeer struct {
	id    uint64
	addr  net.Addr
	queue chan []byte
	last  atomic.Int64 // unix nanos of the last datagram either way
}

// ListenUDP opens the UDP address addr ("127.0.0.1:0" picks a port) and
// serves cfg on it in the background. EventListening is reported with
// the chosen address; each peer's tunnel reports connecting, signin,
// connected, closed or error with its ConnID.
func ListenUDP(ctx context.Context, addr string, cfg Config, opts UDPOptions) (*UDPListener, error) {
	t, err := New(cfg)
	if err != nil {
		return nil, err
	}
	pc, err := (&net.ListenConfig{}).ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	idle := opts.IdleTimeout
	if idle <= 0 {
		idle = DefaultUDPIdleTimeout
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &UDPListener{t: t, pc: pc, idle: idle, ctx: ctx, cancel: cancel, done: make(chan struct{}), peers: map[string]*udpPeer{}}
	t.emit(Event{Kind: EventListening, Addr: pc.LocalAddr().String()})
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	go func() {
		err := l.serve()
		stop()
		pc.Close()
		cancel()
		l.wg.Wait()
		t.Close()
		l.mu.Lock()
		if !l.stopped && ctx.Err() == nil {
			l.err = err
		}
		l.mu.Unlock()
		close(l.done)
	}()
	return l, nil
}

// Addr is the local UDP address.
func (l *UDPListener) Addr() net.Addr { return l.pc.LocalAddr() }

// Stats are the live counters: Active and Total count peer tunnels,
// the bytes are UDP payload bytes.
func (l *UDPListener) Stats() Stats { return l.t.Stats() }

// Dropped is how many datagrams were dropped (queue full, too many peers).
func (l *UDPListener) Dropped() int64 { return l.dropped.Load() }

// Done is closed once the listener has stopped.
func (l *UDPListener) Done() <-chan struct{} { return l.done }

// Err says why the listener stopped on its own (nil after Stop).
func (l *UDPListener) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Stop closes the socket and every peer's tunnel and waits for them.
func (l *UDPListener) Stop() error {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.cancel()
	<-l.done
	return nil
}

func (l *UDPListener) serve() error {
	buf := make([]byte, masque.MaxPayload+1)
	for {
		n, from, err := l.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || l.ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("reading on %s: %w", l.pc.LocalAddr(), err)
		}
		l.deliver(from, append([]byte(nil), buf[:n]...))
	}
}

// deliver queues p for from's tunnel, starting one for a new peer.
func (l *UDPListener) deliver(from net.Addr, p []byte) {
	key := from.String()
	l.mu.Lock()
	peer := l.peers[key]
	if peer == nil {
		if len(l.peers) >= maxUDPPeers || l.ctx.Err() != nil {
			l.mu.Unlock()
			l.dropped.Add(1)
			return
		}
		peer = &udpPeer{id: l.t.ids.Add(1), addr: from, queue: make(chan []byte, udpQueue)}
		peer.last.Store(time.Now().UnixNano())
		l.peers[key] = peer
		l.wg.Add(1)
		go l.run(peer)
	}
	l.mu.Unlock()
	select {
	case peer.queue <- p:
	default:
		l.dropped.Add(1)
	}
}

// run opens peer's tunnel and relays until it ends or idles out.
func (l *UDPListener) run(peer *udpPeer) {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		delete(l.peers, peer.addr.String())
		l.mu.Unlock()
	}()
	t := l.t
	t.active.Add(1)
	t.total.Add(1)
	defer t.active.Add(-1)
	ctx, cancel := context.WithCancel(l.ctx)
	defer cancel()
	start := time.Now()
	addr := peer.addr.String()
	adaptprocs.Kick()
	t.emit(Event{Kind: EventConnecting, ConnID: peer.id, Addr: addr})
	up, err := t.openWith(ctx, peer.id, t.connectUDP)
	if err != nil {
		if ctx.Err() != nil && !errors.As(err, new(*StatusError)) {
			err = fmt.Errorf("connecting to %s via %s: %w", t.cfg.Destination.Authority, t.cfg.Destination.Proxy, context.Cause(ctx))
		}
		t.emit(Event{Kind: EventError, ConnID: peer.id, Addr: addr, Err: err})
		return
	}
	defer up.Close()
	t.emit(Event{Kind: EventConnected, ConnID: peer.id, Addr: addr})
	stop := context.AfterFunc(ctx, func() { up.Close() })
	defer stop()

	// The idle clock runs in this goroutine's select: no timer callback
	// races the tunnel's end.
	idle := time.NewTimer(l.idle)
	defer idle.Stop()

	var sent, received int64
	downDone := make(chan struct{})
	go func() {
		defer close(downDone)
		defer cancel()
		r := masque.NewReader(up)
		for {
			p, err := r.ReadDatagram()
			if err != nil {
				return
			}
			peer.last.Store(time.Now().UnixNano())
			if _, err := l.pc.WriteTo(p, peer.addr); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // a local peer that went away is not the tunnel's end
			}
			received += int64(len(p))
			t.receivd.Add(int64(len(p)))
		}
	}()
	capsule := make([]byte, 0, 2048)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-idle.C:
			since := time.Since(time.Unix(0, peer.last.Load()))
			if since >= l.idle {
				break loop
			}
			idle.Reset(l.idle - since)
		case p := <-peer.queue:
			peer.last.Store(time.Now().UnixNano())
			capsule = masque.AppendDatagram(capsule[:0], p)
			if _, err := up.(io.Writer).Write(capsule); err != nil {
				break loop
			}
			sent += int64(len(p))
			t.sent.Add(int64(len(p)))
		}
	}
	cancel()
	up.Close()
	<-downDone
	t.emit(Event{Kind: EventClosed, ConnID: peer.id, Addr: addr, BytesSent: sent, BytesReceived: received, Duration: time.Since(start)})
}
