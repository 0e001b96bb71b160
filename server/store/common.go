package store

import "errors"

var errTxDone = errors.New("transaction already finished")

// checkPut applies a put's mode and expected version to what is stored.
func checkPut(exists bool, storedVersion uint64, r row, mode putMode) error {
	if mode == putCreate && exists {
		return ErrAlreadyExists
	}
	if r.expect != 0 && (!exists || storedVersion != r.expect) {
		return ErrConflict
	}
	return nil
}
