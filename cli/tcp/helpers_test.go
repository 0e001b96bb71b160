package tcp

import (
	"errors"
	"time"

	"github.com/porthole-dev/porthole/tunnel"
)

func evClosed() tunnel.Event {
	return tunnel.Event{Kind: tunnel.EventClosed, ConnID: 3, BytesSent: 5, BytesReceived: 2 << 20, Duration: 1500 * time.Millisecond}
}
func evError() tunnel.Event {
	return tunnel.Event{Kind: tunnel.EventError, ConnID: 3, Err: errors.New("access denied")}
}
func evListening() tunnel.Event {
	return tunnel.Event{Kind: tunnel.EventListening, Addr: "127.0.0.1:1"}
}

func evConnecting() tunnel.Event {
	return tunnel.Event{Kind: tunnel.EventConnecting, ConnID: 3, Addr: "127.0.0.1:5555"}
}
