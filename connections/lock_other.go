//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package connections

// lockFile is a no-op where there is no flock: the Store's mutex still
// serializes writers in one process.
func lockFile(string) (func(), error) { return func() {}, nil }
