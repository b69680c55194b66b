package request

// ForcePlan makes searches take one way ("scan", "index", or "" to
// choose by counts) until the returned function restores it.
func ForcePlan(p string) func() {
	old := forcePlan
	forcePlan = p
	return func() { forcePlan = old }
}
