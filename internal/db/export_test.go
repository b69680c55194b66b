package db

// WrapSync replaces the SQLite committer's WAL sync with wrap(sync); call
// it before the first Write.
func WrapSync(d *DB, wrap func(sync func() error) error) {
	real := d.gc.syncFn
	d.gc.syncFn = func() error { return wrap(real) }
}
