package request

// ForcePlan makes searches take one way ("scan", "index", or "" to
// choose by counts) and expand a prefix to at most prefixWords words,
// until the returned function restores both.
func ForcePlan(p string, prefixWords int) func() {
	old, oldWords := forcePlan, maxPrefixWords
	forcePlan, maxPrefixWords = p, prefixWords
	return func() { forcePlan, maxPrefixWords = old, oldWords }
}
