package app

import "context"

// wireNotices builds the notices services and registers their jobs.
func (a *App) wireNotices(ctx context.Context) error {
	return nil
}
