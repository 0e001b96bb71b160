package termtext

import (
	"bytes"
	"io"
	"sync"
	"unicode/utf8"
)

// Writer escapes everything Escape does except \n and \t, so whole lines
// and tables pass while escape sequences cannot. A rune split across two
// writes is held until its rest arrives.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	partial []byte // an incomplete UTF-8 prefix from the last write
	buf     bytes.Buffer
}

// NewWriter wraps w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Unwrap returns the underlying writer: for a full-screen UI that renders
// its own escapes around text it has already escaped.
func (w *Writer) Unwrap() io.Writer { return w.w }

// Write escapes p and writes it; it reports len(p) on success.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := p
	if len(w.partial) > 0 {
		data = append(append([]byte{}, w.partial...), p...)
		w.partial = w.partial[:0]
	}
	// Hold back an incomplete rune at the end (at most 3 bytes).
	cut := len(data)
	for k := 1; k <= 3 && k <= len(data); k++ {
		c := data[len(data)-k]
		if c < 0x80 {
			break
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(data[len(data)-k:]) {
				cut = len(data) - k
			}
			break
		}
	}
	w.partial = append(w.partial, data[cut:]...)
	data = data[:cut]
	if isClean(string(data), true) {
		if _, err := w.w.Write(data); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.buf.Reset()
	appendEscaped(&w.buf, string(data), true)
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
