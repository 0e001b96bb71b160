package cmdutil

import (
	"context"
	"errors"
)

// StoppableListener is the part of a started local listener (tcp or udp)
// that a command waits on.
type StoppableListener interface {
	Stop() error
	Done() <-chan struct{}
	Err() error
}

// WaitListener blocks until ctx ends (then it stops ln) or ln stops by
// itself. It returns ctx's error, or the failure that stopped ln wrapped
// by stopped (cancellation is no failure).
func WaitListener(ctx context.Context, ln StoppableListener, stopped func(error) error) error {
	select {
	case <-ctx.Done():
		_ = ln.Stop()
		return ctx.Err()
	case <-ln.Done():
		if err := ln.Err(); err != nil && !errors.Is(err, context.Canceled) {
			return stopped(err)
		}
		return ctx.Err()
	}
}
