package tcpopts

import (
	"net/netip"
	"os"
	"syscall"
)

// ConnectNow is a net.Dialer Control for connections to a loopback
// address: it starts the connect itself, so that the kernel has usually
// finished the handshake (it runs within the call on loopback) by the
// time the dialer's own connect runs, which then finds the socket
// connected (0 or EISCONN) and returns at once. Without it the dialer always
// parks the goroutine until the poller reports the socket writable: a
// sleep and a wake-up of another thread on every tunneled connection.
// Other addresses, and a connect still in progress, take the dialer's
// usual path.
func ConnectNow(network, address string, c syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return nil
	}
	var sa syscall.Sockaddr
	switch network {
	case "tcp4":
		if !ap.Addr().Unmap().Is4() {
			return nil
		}
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
	case "tcp6":
		sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	default:
		return nil
	}
	var cerr error
	if err := c.Control(func(fd uintptr) {
		for {
			if cerr = syscall.Connect(int(fd), sa); cerr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	switch cerr {
	case nil, syscall.EINPROGRESS, syscall.EALREADY:
		return nil
	}
	return os.NewSyscallError("connect", cerr)
}
