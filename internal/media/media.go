// Package media stores photos that people attach (group messages, later
// requests). A photo's type is sniffed from its bytes, never trusted from
// the client; it is size-capped, decoded, resized to at most MaxSide pixels
// on its long side and re-encoded as JPEG, which drops every piece of
// metadata the original carried, GPS position included. A location the
// author chooses to share is stored as data beside the message, never in
// the file. Files are named by the hash of their content under
// <dir>/media/, so the same photo is stored once.
package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for the accepted formats
	"image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"github.com/trothu/trothu/internal/apperr"
)

// Limits on what is accepted.
const (
	MaxBytes  = 10 << 20   // upload size cap
	MaxPixels = 40_000_000 // refuse decompression bombs before decoding
	MaxSide   = 1600       // long side after resizing
	Quality   = 80         // JPEG quality of the stored copy
)

// Store keeps photos in a directory.
type Store struct{ dir string }

// NewStore returns a store under dataDir/media, creating it. It returns the
// file system's error.
func NewStore(dataDir string) (*Store, error) {
	dir := filepath.Join(dataDir, "media")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Photo is a stored photo.
type Photo struct {
	Name   string `json:"name"` // "3f2a…9c.jpg": content hash
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
}

var (
	errTooBig  = apperr.InvalidField("photo", "Ảnh quá lớn (tối đa 10 MB).", "The photo is too large (10 MB at most).")
	errNotImg  = apperr.InvalidField("photo", "Tệp này không phải ảnh JPEG, PNG, GIF hoặc WebP.", "This file is not a JPEG, PNG, GIF or WebP image.")
	errPixels  = apperr.InvalidField("photo", "Ảnh có kích thước quá lớn.", "The image has too many pixels.")
	errCorrupt = apperr.InvalidField("photo", "Không đọc được ảnh này; có thể tệp bị hỏng.", "This image cannot be read; the file may be damaged.")
)

var accepted = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// Process reads at most MaxBytes from r, checks, resizes and re-encodes the
// photo, and returns the JPEG with its size. It returns apperr Invalid for
// anything that is not an acceptable image. It does no I/O besides r, so
// callers may run it before a transaction.
func Process(r io.Reader) (jpg []byte, w, h int, err error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, 0, 0, err
	}
	if len(raw) > MaxBytes {
		return nil, 0, 0, errTooBig
	}
	if !accepted[http.DetectContentType(raw)] {
		return nil, 0, 0, errNotImg
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, errCorrupt
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxPixels {
		return nil, 0, 0, errPixels
	}
	src, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, errCorrupt
	}
	dst := resize(src)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: Quality}); err != nil {
		return nil, 0, 0, err
	}
	b := dst.Bounds()
	return out.Bytes(), b.Dx(), b.Dy(), nil
}

// resize scales src so its long side is at most MaxSide, onto white (JPEG
// has no transparency).
func resize(src image.Image) image.Image {
	sb := src.Bounds()
	w, h := sb.Dx(), sb.Dy()
	if long := max(w, h); long > MaxSide {
		w, h = max(1, w*MaxSide/long), max(1, h*MaxSide/long)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), &image.Uniform{C: color.White}, image.Point{}, draw.Src)
	if w == sb.Dx() && h == sb.Dy() {
		draw.Draw(dst, dst.Bounds(), src, sb.Min, draw.Over)
		return dst
	}
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, sb, draw.Over, nil)
	return dst
}

// Save processes the photo read from r (see Process) and stores it,
// returning its name and size. It returns apperr Invalid for a bad image
// and the file system's error otherwise.
func (s *Store) Save(r io.Reader) (Photo, error) {
	jpg, w, h, err := Process(r)
	if err != nil {
		return Photo{}, err
	}
	sum := sha256.Sum256(jpg)
	name := hex.EncodeToString(sum[:16]) + ".jpg"
	path := filepath.Join(s.dir, name)
	if _, err := os.Stat(path); err == nil {
		return Photo{Name: name, Width: w, Height: h, Bytes: len(jpg)}, nil
	}
	tmp, err := os.CreateTemp(s.dir, ".upload-*")
	if err != nil {
		return Photo{}, err
	}
	defer os.Remove(tmp.Name()) // gone already after a successful rename
	if _, err := tmp.Write(jpg); err != nil {
		tmp.Close()
		return Photo{}, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Photo{}, err
	}
	if err := tmp.Close(); err != nil {
		return Photo{}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Photo{}, err
	}
	return Photo{Name: name, Width: w, Height: h, Bytes: len(jpg)}, nil
}

// ValidName reports whether name could be a stored photo's name, so that
// a request path can never leave the media directory.
func ValidName(name string) bool {
	hexPart, ok := strings.CutSuffix(name, ".jpg")
	if !ok || len(hexPart) != 32 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil && strings.ToLower(hexPart) == hexPart
}

// Open returns the stored photo's file. It returns apperr NotFound for an
// unknown or malformed name.
func (s *Store) Open(name string) (*os.File, error) {
	if !ValidName(name) {
		return nil, apperr.NotFoundf("ảnh", "Photo")
	}
	f, err := os.Open(filepath.Join(s.dir, name))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, apperr.NotFoundf("ảnh", "Photo")
		}
		return nil, err
	}
	return f, nil
}
