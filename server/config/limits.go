package config

import (
	"fmt"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

// Server-wide resource limits applied when the keys are left out. Idle
// client connections go after two minutes (Pomerium's timeout_idle
// default is 5m; ours keeps an abandoned connection under three).
const (
	DefaultTimeoutRead       = 30 * time.Second
	DefaultTimeoutWrite      = 60 * time.Second
	DefaultTimeoutIdle       = 2 * time.Minute
	DefaultTimeoutReadHeader = 10 * time.Second
	DefaultMaxConnections    = 10000
	DefaultMaxHeaderBytes    = 64 << 10
)

// limitKeys are the top-level keys of Limits; timeout_* are Pomerium's.
var limitKeys = []string{
	"timeout_read", "timeout_write", "timeout_idle", "timeout_read_header",
	"max_connections", "max_header_bytes",
}

// Limits bound what one client can hold on the server. A zero field means
// "not set": Effective fills in the defaults.
type Limits struct {
	// TimeoutRead bounds reading a whole request, body included (0s in
	// the file: unlimited). Routes and tunnels replace it with their own
	// timeout and idle_timeout.
	TimeoutRead time.Duration
	// TimeoutWrite bounds writing a response (0s in the file: unlimited).
	TimeoutWrite time.Duration
	// TimeoutIdle closes a keep-alive HTTP/1.1 or HTTP/2 connection that
	// has no request in flight for this long.
	TimeoutIdle time.Duration
	// TimeoutReadHeader bounds the TLS handshake and a request's headers.
	TimeoutReadHeader time.Duration
	// MaxConnections caps open client connections; more are closed at once.
	MaxConnections int
	// MaxHeaderBytes caps a request's header block (HTTP/1.1 and HTTP/2).
	MaxHeaderBytes int

	readSet, writeSet bool
}

// Effective is l with every unset field at its default.
func (l Limits) Effective() Limits {
	if !l.readSet && l.TimeoutRead == 0 {
		l.TimeoutRead = DefaultTimeoutRead
	}
	if !l.writeSet && l.TimeoutWrite == 0 {
		l.TimeoutWrite = DefaultTimeoutWrite
	}
	if l.TimeoutIdle == 0 {
		l.TimeoutIdle = DefaultTimeoutIdle
	}
	if l.TimeoutReadHeader == 0 {
		l.TimeoutReadHeader = DefaultTimeoutReadHeader
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	l.readSet, l.writeSet = true, true
	return l
}

func limitFields(l *Limits) map[string]fieldFn {
	return map[string]fieldFn{
		"timeout_read":        duration(&l.TimeoutRead, &l.readSet),
		"timeout_write":       duration(&l.TimeoutWrite, &l.writeSet),
		"timeout_idle":        positiveDuration(&l.TimeoutIdle),
		"timeout_read_header": positiveDuration(&l.TimeoutReadHeader),
		"max_connections":     integer(&l.MaxConnections, 1, 1<<20),
		"max_header_bytes":    integer(&l.MaxHeaderBytes, 1<<10, 1<<20),
	}
}

// positiveDuration is duration that refuses 0: a connection that may
// idle or trickle its headers forever is what these keys prevent.
func positiveDuration(dst *time.Duration) fieldFn {
	return func(n *yaml.Node) error {
		var d time.Duration
		if err := duration(&d, nil)(n); err != nil {
			return err
		}
		if d == 0 && !yamlnode.IsNull(n) {
			return fmt.Errorf("must be more than 0, got %q (e.g. 2m)", n.Value)
		}
		*dst = d
		return nil
	}
}

func integer(dst *int, lo, hi int) fieldFn {
	return func(n *yaml.Node) error {
		if yamlnode.IsNull(n) {
			return nil
		}
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a whole number from %d to %d, got %s", lo, hi, yamlnode.KindName(n))
		}
		v, err := strconv.Atoi(n.Value)
		if err != nil || v < lo || v > hi {
			return fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, oneLine(n.Value))
		}
		*dst = v
		return nil
	}
}
