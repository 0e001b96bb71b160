package stackpre

import (
	"testing"
	"unsafe"
)

// sink keeps use's result.
var sink byte

// use takes about depth*256 bytes of stack.
//
//go:noinline
func use(depth int) byte {
	var b [256]byte
	b[depth&255] = byte(depth)
	if depth == 0 {
		return b[0]
	}
	return use(depth-1) + b[(depth+1)&255]
}

// moves reports whether the calling goroutine's stack was copied (a
// local's address changed) while it ran use(depth), after Grow when grow.
func moves(grow bool, depth int) bool {
	done := make(chan bool)
	go func() {
		if grow {
			Grow()
		}
		var local int
		before := uintptr(unsafe.Pointer(&local))
		sink = use(depth)
		done <- uintptr(unsafe.Pointer(&local)) != before
	}()
	return <-done
}

func TestGrow(t *testing.T) {
	// The method can see a copy: 64 KiB is beyond what Grow gives.
	if !moves(true, 256) {
		t.Fatal("a goroutine using 64 KiB of stack kept its stack in place; the test cannot see a copy")
	}
	// After Grow, a call chain of 5 KiB runs without a copy.
	for range 20 {
		if moves(true, 20) {
			t.Fatal("the stack was copied under a 5 KiB call chain after Grow; want it grown to 8 KiB up front")
		}
	}
}
