package vnadmin

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	names := Names()
	for _, want := range []string{
		"geo_2025_wards_simplified.geojson",
		"geo_2025_hcm_wards_full.geojson",
		"geo_2025_ward_point_fixtures.csv",
		"units_2025_wards.csv",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, want it to contain %q", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, want sorted", names)
	}
}

func TestOpen(t *testing.T) {
	r, err := Open("geo_2025_ward_point_fixtures.csv")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	header, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	if want := "lon,lat,expected_ward_code,expected_ward_name,province_code,boundary_dist_m,kind\n"; header != want {
		t.Errorf("header = %q, want %q", header, want)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestOpenEveryName(t *testing.T) {
	for _, name := range Names() {
		r, err := Open(name)
		if err != nil {
			t.Fatalf("Open(%q): %v", name, err)
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			t.Errorf("read %s: %v", name, err)
		}
		if n == 0 {
			t.Errorf("%s: got 0 bytes, want some", name)
		}
		if err := r.Close(); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open("no_such_file.csv")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) error = %v, want fs.ErrNotExist", err)
	}
}
