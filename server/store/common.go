package store

import (
	"context"
	"errors"
)

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

// putInTx and delInTx are a Store's own single writes: each one a
// transaction of its own.
func putInTx(ctx context.Context, st Store, r row, mode putMode) (out row, err error) {
	err = st.Update(ctx, func(tx Tx) error {
		out, err = tx.put(ctx, r, mode)
		return err
	})
	return out, err
}

func delInTx(ctx context.Context, st Store, k Kind, id string) error {
	return st.Update(ctx, func(tx Tx) error { return tx.del(ctx, k, id) })
}
