package demo

import "context"

// seedRequests adds the demo requests; it does nothing when they are already there.
func seedRequests(ctx context.Context, env Env) error {
	return nil
}
