package server

import (
	"errors"
	"fmt"
	"syscall"
)

// ListenError says why listening on addr (the setting key) failed and
// what to do: another process on the port, or a privileged port.
func ListenError(key, addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s %s: %w (another process listens there: stop it or choose another %s)", key, addr, err, key)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%s %s: %w (ports below 1024 need root or CAP_NET_BIND_SERVICE; or choose a port above 1023)", key, addr, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%s %s: %w (no interface of this machine has that address; use one it has, or :PORT for all)", key, addr, err)
	}
	return fmt.Errorf("%s %s: %w (want host:port, e.g. :443 or 127.0.0.1:8443)", key, addr, err)
}
