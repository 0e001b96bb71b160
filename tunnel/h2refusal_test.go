package tunnel

import (
	"io"
	"testing"

	"golang.org/x/net/http2"
)

// A refusal's body that ended with END_STREAM is read whole even when the
// proxy then resets the stream (Go's server stops the upload of a refused
// CONNECT with RST_STREAM): the CLI shows the policy's explanation from
// it. A stream reset before its end still fails without its partial data.
func TestH2RefusalBodyBeforeReset(t *testing.T) {
	c, p := startH2Pair(t)
	s, id := openStream(t, c, p, 403)
	p.write(func(fr *http2.Framer) error {
		if err := fr.WriteData(id, true, []byte("why: only on-call\n")); err != nil {
			return err
		}
		return fr.WriteRSTStream(id, http2.ErrCodeNo)
	})
	waitUntil(t, "the reset seen", func() bool { return s.failure() != nil })
	if got, _ := io.ReadAll(io.LimitReader(s, 512)); string(got) != "why: only on-call\n" {
		t.Errorf("refusal body = %q; want the whole body sent before the reset", got)
	}

	s2, id2 := openStream(t, c, p, 200)
	p.write(func(fr *http2.Framer) error {
		if err := fr.WriteData(id2, false, []byte("partial")); err != nil {
			return err
		}
		return fr.WriteRSTStream(id2, http2.ErrCodeInternal)
	})
	waitUntil(t, "the second reset seen", func() bool { return s2.failure() != nil })
	if _, err := s2.Read(make([]byte, 64)); err == nil {
		t.Error("a stream reset before its end read without error; want the reset")
	}
}
