// Package vnadmin embeds the national administrative-unit dataset (unit lists,
// old→new mappings, ward boundaries and test points; see data/SOURCE.md) so that
// the binary and the tests never depend on files outside the repository.
package vnadmin

import (
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
)

//go:embed data/*.gz
var files embed.FS

// Open returns a reader over the uncompressed contents of the embedded file
// name, given without its .gz suffix (for example
// "geo_2025_wards_simplified.geojson"). The caller must close it. Open returns
// an error wrapping fs.ErrNotExist when there is no such file.
func Open(name string) (io.ReadCloser, error) {
	f, err := files.Open("data/" + name + ".gz")
	if err != nil {
		return nil, fmt.Errorf("vnadmin: open %s: %w", name, err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("vnadmin: open %s: %w", name, err), f.Close())
	}
	return &reader{zr: zr, f: f}, nil
}

// Names lists the embedded files, sorted, without their .gz suffix: the names
// Open accepts.
func Names() []string {
	entries, err := fs.ReadDir(files, "data")
	if err != nil {
		// The directory is part of the binary; failing to list it is a build defect.
		panic(fmt.Sprintf("vnadmin: read embedded data: %v", err))
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".gz"); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

type reader struct {
	zr *gzip.Reader
	f  fs.File
}

func (r *reader) Read(p []byte) (int, error) { return r.zr.Read(p) }

// Close releases the decompressor and the embedded file. Corruption shows up
// as a Read error, the checksum at the end of the stream included.
func (r *reader) Close() error {
	return errors.Join(r.zr.Close(), r.f.Close())
}
