// Package stackpre grows a new goroutine's stack to its working size in
// one step, while the stack is still shallow.
//
// A goroutine starts with a small stack and grows it by copying whenever a
// call needs more. Each copy walks every frame on the stack to adjust its
// pointers, so growing deep in a call chain (a TLS write under an HTTP/2
// stream open, a session lookup under a handler) costs far more than the
// copy itself: on the tunnel's connection path that walk was a sixth of the
// client's user CPU per new connection. Calling To8K or To4K first makes
// the one copy at the top, where there is one frame to adjust.
//
// Each is sized to the stack its goroutine reaches anyway, no larger:
// an idle tunnel keeps its goroutines' stacks.
package stackpre

// To8K makes the calling goroutine's stack 8 KiB; one already that large
// is not copied. Its frame (6 KiB, plus the runtime's guard and what is
// below) fits 8 KiB, not 4.
//
//go:noinline
func To8K() {
	var frame [6 << 10]byte
	touch8(&frame)
}

// To4K makes the calling goroutine's stack 4 KiB, as To8K does 8.
//
//go:noinline
func To4K() {
	var frame [2 << 10]byte
	touch4(&frame)
}

// touch8 and touch4 take the frame's address, so the compiler keeps the
// frame whole.
//
//go:noinline
func touch8(b *[6 << 10]byte) { b[len(b)-1] = 1 }

//go:noinline
func touch4(b *[2 << 10]byte) { b[len(b)-1] = 1 }
