package main

import (
	"context"
	"io"
)

// benchSearch runs `trothu bench search`.
func benchSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errNotBuilt
}
