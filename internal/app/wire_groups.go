package app

import "context"

// wireGroups builds the groups services and registers their jobs.
func (a *App) wireGroups(ctx context.Context) error {
	return nil
}
