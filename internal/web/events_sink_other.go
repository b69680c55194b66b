//go:build !unix

package web

import "errors"

// Elsewhere than Unix, streams are written by a goroutine of their own.
const canWriteRaw = false

func writeRaw(int, []byte) (int, error) {
	return 0, errors.New("web: raw socket writes are Unix only")
}
