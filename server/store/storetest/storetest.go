// Package storetest is the conformance suite every store backend passes:
// each record type's create/read/update/delete/list, transactions, the
// change feed, concurrent writers, cleanup and restart persistence.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Opener {
//			dir := t.TempDir()
//			return func(key []byte) (store.Store, error) { return store.Open(ctx, store.Options{...}) }
//		}, true)
//	}
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/store"
)

// Opener opens one store instance; called again with the same key it
// reopens the same data (for persistent backends).
type Opener func(key []byte) (store.Store, error)

// NewOpener makes an Opener for a fresh, empty store.
type NewOpener func(t *testing.T) Opener

// Run runs the suite. persistent says whether data survives Close and a
// second open (file, PostgreSQL) or not (memory).
func Run(t *testing.T, newOpener NewOpener, persistent bool) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st store.Store)
	}{
		{"records", testRecords},
		{"create and conflicts", testCreateConflict},
		{"queries", testQueries},
		{"transactions", testTransactions},
		{"change feed", testChangeFeed},
		{"watch", testWatch},
		{"concurrent writers", testConcurrentWriters},
		{"cleanup", testCleanup},
		{"bounds", testBounds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t, newOpener(t), key(1))
			tc.fn(t, st)
		})
	}
	if persistent { // memory keeps nothing across opens, by design
		t.Run("restart persistence", func(t *testing.T) { testPersistence(t, newOpener(t)) })
	}
}

func key(b byte) []byte {
	k := make([]byte, store.KeySize)
	for i := range k {
		k[i] = b
	}
	return k
}

func open(t *testing.T, o Opener, k []byte) store.Store {
	t.Helper()
	st, err := o(k)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v; want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
