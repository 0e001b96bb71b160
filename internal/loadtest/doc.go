// Package loadtest holds the end-to-end load test of `make test`: the
// real pomerium-server --dev and one real pomerium-cli tcp process carry
// 1,000 concurrent tunnels of 1 MiB each (SHA-256 compared, no byte lost),
// then the server is killed and restarted in the middle of a run. It has
// no code of its own; see load_test.go.
package loadtest
