package tcp

import (
	"errors"

	"github.com/porthole-dev/porthole/tunnel"
)

func evClosed() tunnel.Event {
	return tunnel.Event{Kind: tunnel.EventClosed, ConnID: 3, BytesSent: 5, BytesReceived: 2 << 20}
}
func evError() tunnel.Event {
	return tunnel.Event{Kind: tunnel.EventError, ConnID: 3, Err: errors.New("access denied")}
}
func evListening() tunnel.Event {
	return tunnel.Event{Kind: tunnel.EventListening, Addr: "127.0.0.1:1"}
}
