package app

import "context"

// wireRequests builds the requests services and registers their jobs.
func (a *App) wireRequests(ctx context.Context) error {
	return nil
}
