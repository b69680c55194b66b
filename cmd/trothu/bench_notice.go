package main

import (
	"context"
	"io"
)

// benchNoticeFanout runs `trothu bench notice-fanout`.
func benchNoticeFanout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errNotBuilt
}
