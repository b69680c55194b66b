package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/geo"
)

// A benchmark scenario builds its own data on a fresh temporary database
// (or --database), reports progress on stderr and prints, as the last line
// on stdout, one JSON object with the scenario, its parameters, the figures,
// the floor measured in the same run (floor_*) and ratio.
type benchFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// benchmarks lists the scenarios; each lives in bench_<name>.go.
var benchmarks = map[string]benchFunc{
	"geo-locate":      benchGeoLocate,
	"realtime-fanout": benchRealtimeFanout,
	"notice-fanout":   benchNoticeFanout,
	"request-intake":  benchRequestIntake,
	"search":          benchSearch,
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		var names []string
		for n := range benchmarks {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("usage: trothu bench SCENARIO [flags]; scenarios: %s", strings.Join(names, ", "))
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return fmt.Errorf("unknown benchmark %q", args[0])
	}
	return b(ctx, args[1:], stdout, stderr)
}

func benchGeoLocate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench geo-locate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("duration", 10*time.Second, "how long to measure (the floor is measured for as long again)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "geo-locate: loading the embedded boundaries and building the index…")
	res, err := geo.LocateBench(*dur)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "geo-locate: %.0f lookups/s on one core (%.0f ns each); floor %.0f/s; ratio %.3f\n",
		res.LookupsPerSecPerCore, res.NsPerLookup, res.FloorLookupsPerSec, res.Ratio)
	return printJSON(stdout, res)
}
