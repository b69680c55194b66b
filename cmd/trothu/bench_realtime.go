package main

import (
	"context"
	"io"
)

// benchRealtimeFanout runs `trothu bench realtime-fanout`.
func benchRealtimeFanout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errNotBuilt
}
