package request

// ForcePlan makes searches take one way ("scan", "index", or "" to
// choose by counts), expand a prefix to at most prefixWords words and read
// at most walk postings a page, until the returned function restores them.
func ForcePlan(p string, prefixWords, walk int) func() {
	old, oldWords, oldWalk := forcePlan, maxPrefixWords, walkLimit
	forcePlan, maxPrefixWords, walkLimit = p, prefixWords, walk
	return func() { forcePlan, maxPrefixWords, walkLimit = old, oldWords, oldWalk }
}

// SetTypeReindexBatch sets how many requests a type re-index job rewrites,
// until the returned function restores it.
func SetTypeReindexBatch(n int) func() {
	old := typeReindexBatch
	typeReindexBatch = n
	return func() { typeReindexBatch = old }
}

// SetIndexBatch sets how many queued requests one indexer transaction
// indexes, until the returned function restores it.
func SetIndexBatch(n int) func() {
	old := indexBatch
	indexBatch = n
	return func() { indexBatch = old }
}

// IsCommonWord reports whether folded word w has no postings.
func IsCommonWord(w string) bool { return commonWords[w] }

// SetPurgeBatch sets how many postings one purge job deletes, until the
// returned function restores it.
func SetPurgeBatch(n int) func() {
	old := purgeBatch
	purgeBatch = n
	return func() { purgeBatch = old }
}

// ByID reports whether p is in id order (a search through SQLite's text
// index) rather than by creation time.
func ByID(p Page) bool { return p.byID }
