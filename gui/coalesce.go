package gui

import "sync"

// changeQueue folds the controller's change reports into one UI turn:
// a burst of tunnel events (hundreds of short connections) refreshes each
// connection once per turn instead of once per event.
type changeQueue struct {
	mu        sync.Mutex
	ids       map[string]bool // "" = the whole list
	scheduled bool
}

// add records that id changed and reports whether a flush must be
// scheduled (none is pending yet).
func (q *changeQueue) add(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ids == nil {
		q.ids = map[string]bool{}
	}
	q.ids[id] = true
	if q.scheduled {
		return false
	}
	q.scheduled = true
	return true
}

// take returns the changed ids and ends the pending flush.
func (q *changeQueue) take() map[string]bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	ids := q.ids
	q.ids, q.scheduled = nil, false
	return ids
}

// changed is the controller's OnChange: any goroutine.
func (w *MainWindow) changed(id string) {
	if w.changes.add(id) {
		w.do(w.flushChanges)
	}
}

// flushChanges refreshes what changed since the last turn: everything
// once when the list changed, else each connection once.
func (w *MainWindow) flushChanges() {
	ids := w.changes.take()
	if ids[""] {
		w.refresh("")
	}
	for id := range ids {
		if id != "" {
			w.refresh(id)
		}
	}
}
