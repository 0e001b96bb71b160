package tunnel

// SetCPUs sets the P count the HTTP/2 pool's size follows, for a test;
// the returned func restores it.
func SetCPUs(n int) (restore func()) {
	old := cpus
	cpus = n
	return func() { cpus = old }
}
