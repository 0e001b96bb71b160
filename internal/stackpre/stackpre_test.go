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

// moves reports whether a new goroutine's stack was copied (a local's
// address changed) while it ran use(depth), after grow when not nil.
func moves(grow func(), depth int) bool {
	done := make(chan bool)
	go func() {
		if grow != nil {
			grow()
		}
		var local int
		before := uintptr(unsafe.Pointer(&local))
		sink = use(depth)
		done <- uintptr(unsafe.Pointer(&local)) != before
	}()
	return <-done
}

func TestGrow(t *testing.T) {
	// The method sees a copy: 64 KiB is beyond what either gives.
	if !moves(To8K, 256) {
		t.Fatal("a goroutine using 64 KiB of stack kept its stack in place; the test cannot see a copy")
	}
	tests := []struct {
		name  string
		grow  func()
		depth int // use's 256-byte frames
	}{
		{"To8K, 5 KiB deep", To8K, 20},
		{"To4K, 2.5 KiB deep", To4K, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				if moves(tt.grow, tt.depth) {
					t.Fatal("the stack was copied under the call chain; want it grown up front")
				}
			}
		})
	}
}
