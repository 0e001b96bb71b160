package gui

import (
	"bytes"
	"io"
	"sync"
)

// fyneNoise passes the standard logger's lines (Fyne and its tray log
// there) to w, less Fyne's "Preferences load error" whose cause is EOF.
// Fyne rewrites its preferences file at exit by truncating it and then
// writing, and its own file watcher may read it in between: the file is
// whole a moment later, so the three lines of that report say nothing to
// the user. Any other cause, and any other line, passes.
type fyneNoise struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte // a "Preferences load error" line until its cause shows
	dropAt  bool   // the report's "At:" line is next
}

var (
	prefsErrLine = []byte("Fyne error:  Preferences load error:")
	eofCause     = []byte("  Cause: EOF")
	atLine       = []byte("  At: ")
)

// Write takes one log line (the log package writes each in one call).
func (f *fyneNoise) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.pending != nil:
		held := f.pending
		f.pending = nil
		if bytes.Contains(p, eofCause) {
			f.dropAt = true
			return len(p), nil
		}
		if _, err := f.w.Write(held); err != nil {
			return 0, err
		}
	case f.dropAt:
		f.dropAt = false
		if bytes.Contains(p, atLine) {
			return len(p), nil
		}
	case bytes.Contains(p, prefsErrLine):
		f.pending = bytes.Clone(p)
		return len(p), nil
	}
	return f.w.Write(p)
}
