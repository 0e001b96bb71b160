//go:build !unix

package bounded

const openNonblock = 0
