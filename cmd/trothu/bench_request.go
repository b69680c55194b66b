package main

import (
	"context"
	"io"
)

// benchRequestIntake runs `trothu bench request-intake`.
func benchRequestIntake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errNotBuilt
}
