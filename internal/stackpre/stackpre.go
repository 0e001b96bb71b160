// Package stackpre grows a new goroutine's stack to its working size in
// one step, while the stack is still shallow.
//
// A goroutine starts with a small stack and grows it by copying whenever a
// call needs more. Each copy walks every frame on the stack to adjust its
// pointers, so growing deep in a call chain (a TLS write under an HTTP/2
// stream open, a session lookup under a handler) costs far more than the
// copy itself: on the tunnel's connection path that walk was a sixth of the
// client's user CPU per new connection. Calling Grow first makes the one
// copy at the top, where there is one frame to adjust.
package stackpre

// Grow makes the calling goroutine's stack 8 KiB, the size the connection
// paths reach; a stack already that large is not copied. Its frame (6 KiB
// plus the runtime's guard and what is below) fits 8 KiB, not 4.
//
//go:noinline
func Grow() {
	var frame [6 << 10]byte
	touch(&frame)
}

// touch takes the frame's address, so the compiler keeps the frame whole.
//
//go:noinline
func touch(b *[6 << 10]byte) { b[len(b)-1] = 1 }
