package tunnel

import (
	"errors"
	"testing"
	"time"
)

// Event.String writes byte counts in the one format people read
// everywhere (internal/bytesize), not as raw integers.
func TestEventString(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		ev   Event
		want string
	}{
		{Event{Time: at, Kind: EventClosed, ConnID: 7, BytesSent: 25, BytesReceived: 9000, Duration: 1500 * time.Millisecond},
			"03:04:05 closed #7 sent 25 B, received 8.8 KiB after 1.5s"},
		{Event{Time: at, Kind: EventError, ConnID: 1, Err: errors.New("refused")}, "03:04:05 error #1: refused"},
		{Event{Time: at, Kind: EventListening, Addr: "127.0.0.1:1"}, "03:04:05 listening 127.0.0.1:1"},
	} {
		if got := tt.ev.String(); got != tt.want {
			t.Errorf("String() = %q; want %q", got, tt.want)
		}
	}
}
