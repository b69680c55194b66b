package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
)

// printReport reads result files and prints one markdown table with the
// median over all runs (and over the repeated bulk runs inside a run).
func printReport(w io.Writer, files []string) error {
	type key struct{ driver, name string }
	vals := map[key][]Result{}
	meta := map[string]*Report{}
	runs := map[string]int{}
	rss := map[string][]float64{}
	var order []string
	total := map[key]int{}
	noisy := map[key][]Result{}
	all := map[key][]Result{} // CPU per op barely moves with load: use every sample
	fallback := map[key]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, ok := meta[r.Driver]; !ok {
			meta[r.Driver] = &r
			order = append(order, r.Driver)
		}
		runs[r.Driver]++
		rss[r.Driver] = append(rss[r.Driver], float64(r.MaxRSSKiB)/1024)
		for _, x := range r.Results {
			k := key{r.Driver, x.Name}
			total[k]++
			all[k] = append(all[k], x)
			if quiet(x) {
				vals[k] = append(vals[k], x)
			} else {
				noisy[k] = append(noisy[k], x)
			}
		}
	}
	// A measurement with no quiet sample falls back to all its samples.
	for k, xs := range noisy {
		if len(vals[k]) == 0 {
			vals[k] = xs
			fallback[k] = true
		}
	}
	med := func(xs []Result, f func(Result) float64) float64 {
		v := make([]float64, len(xs))
		for i, x := range xs {
			v[i] = f(x)
		}
		slices.Sort(v)
		if len(v) == 0 {
			return 0
		}
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	fmt.Fprintln(w, "| measurement | "+join(order, func(d string) string {
		m := meta[d]
		return fmt.Sprintf("%s %s (SQLite %s, %d runs)", d, m.ModuleVersion, m.SQLiteVersion, runs[d])
	})+" |")
	fmt.Fprintln(w, "|---|"+join(order, func(string) string { return "---:" })+"|")
	type rowDef struct {
		label, name string
		f           func(Result) float64
		format      string
		allSamples  bool
	}
	ops := func(r Result) float64 { return r.OpsPerSec }
	cpuPerOp := func(r Result) float64 { return r.CPUSec / float64(max(r.Ops, 1)) * 1e6 }
	extra := func(k string) func(Result) float64 {
		return func(r Result) float64 { v, _ := r.Extra[k].(float64); return v }
	}
	rowsDefs := []rowDef{
		{"1. point read, 2 goroutines: ops/s", "point_read", ops, "%.0f", false},
		{"1. point read: p50 µs", "point_read", func(r Result) float64 { return r.P50us }, "%.1f", false},
		{"1. point read: p99 µs", "point_read", func(r Result) float64 { return r.P99us }, "%.1f", false},
		{"1. point read: CPU µs/op (all runs)", "point_read", cpuPerOp, "%.1f", true},
		{"2. range `LIKE 'prefix%' ORDER BY id LIMIT 50`: ops/s", "range_like", ops, "%.0f", false},
		{"2. range LIKE: p99 µs", "range_like", func(r Result) float64 { return r.P99us }, "%.0f", false},
		{"2. range LIKE: CPU µs/op (all runs)", "range_like", cpuPerOp, "%.0f", true},
		{"2b. range `unit_path >= ? AND < ?` (uses index): ops/s", "range_between", ops, "%.0f", false},
		{"2b. range between: CPU µs/op (all runs)", "range_between", cpuPerOp, "%.0f", true},
		{"3. autocommit insert (1 fsync/row): ops/s", "autocommit_insert", ops, "%.0f", false},
		{"3. autocommit insert: p50 µs", "autocommit_insert", func(r Result) float64 { return r.P50us }, "%.0f", false},
		{"3. autocommit insert: p99 µs", "autocommit_insert", func(r Result) float64 { return r.P99us }, "%.0f", false},
		{"4. group commit, 64 callers: rows/s", "group_commit_insert", ops, "%.0f", false},
		{"4. group commit: p50 call µs", "group_commit_insert", func(r Result) float64 { return r.P50us }, "%.0f", false},
		{"4. group commit: p99 call µs", "group_commit_insert", func(r Result) float64 { return r.P99us }, "%.0f", false},
		{"4. group commit: avg rows/commit", "group_commit_insert", extra("avg_batch_rows"), "%.1f", false},
		{"4. group commit: CPU µs/row (all runs)", "group_commit_insert", cpuPerOp, "%.1f", true},
		{"5. bulk 100k rows, 1 tx, prepared: rows/s", "bulk_insert_100k", ops, "%.0f", false},
		{"5. bulk: CPU µs/row (all runs)", "bulk_insert_100k", cpuPerOp, "%.2f", true},
	}
	for _, rd := range rowsDefs {
		fmt.Fprintln(w, "| "+rd.label+" | "+join(order, func(d string) string {
			k := key{d, rd.name}
			xs, mark := vals[k], ""
			if rd.allSamples {
				xs = all[k]
			} else if fallback[k] {
				mark = "*"
			}
			if len(xs) == 0 {
				return "–"
			}
			return fmt.Sprintf(rd.format, med(xs, rd.f)) + mark
		})+" |")
	}
	fmt.Fprintln(w, "| other processes' CPU s per measurement (median of samples used) | "+join(order, func(d string) string {
		var all []Result
		for k, xs := range vals {
			if k.driver == d {
				all = append(all, xs...)
			}
		}
		return fmt.Sprintf("%.2f", med(all, extra("other_procs_cpu_s")))
	})+" |")
	fmt.Fprintln(w, "| max RSS MiB of a whole run (median) | "+join(order, func(d string) string {
		v := slices.Clone(rss[d])
		slices.Sort(v)
		return fmt.Sprintf("%.0f", v[len(v)/2])
	})+" |")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Medians of quiet samples (other processes used < 10% of a core during the measurement); * = no quiet sample, median of all samples (disturbed). CPU rows use every sample.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Spread of the samples used, ops/s (rows/s), min – max (quiet samples used / all samples):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measurement | "+join(order, func(d string) string { return d })+" |")
	fmt.Fprintln(w, "|---|"+join(order, func(string) string { return "---:" })+"|")
	for _, n := range []string{"point_read", "range_like", "range_between", "autocommit_insert", "group_commit_insert", "bulk_insert_100k"} {
		fmt.Fprintln(w, "| "+n+" | "+join(order, func(d string) string {
			xs := vals[key{d, n}]
			if len(xs) == 0 {
				return "–"
			}
			lo, hi := xs[0].OpsPerSec, xs[0].OpsPerSec
			for _, x := range xs {
				lo, hi = min(lo, x.OpsPerSec), max(hi, x.OpsPerSec)
			}
			nq := len(xs)
			if len(noisy[key{d, n}]) == total[key{d, n}] {
				nq = 0
			}
			return fmt.Sprintf("%.0f – %.0f (%d/%d)", lo, hi, nq, total[key{d, n}])
		})+" |")
	}
	fmt.Fprintln(w)
	for _, d := range order {
		for _, n := range []string{"range_like", "range_between"} {
			if xs := vals[key{d, n}]; len(xs) > 0 {
				fmt.Fprintf(w, "- %s %s plan: `%v`, avg rows returned %.1f\n", d, n, xs[0].Extra["query_plan"], xs[0].Extra["avg_rows"])
			}
		}
	}
	return nil
}

// quiet reports whether other processes on the machine used less than 10%
// of one core during the measurement (the machine is shared; see RESULTS.md).
func quiet(r Result) bool {
	o, ok := r.Extra["other_procs_cpu_s"].(float64)
	return ok && o <= 0.10*r.Seconds
}

func join(xs []string, f func(string) string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " | "
		}
		s += f(x)
	}
	return s
}
