// Package notice owns announcements to an area subtree: targeting, cascade,
// per-household delivery and acknowledgement, and reach.
package notice

// Service is the notice room. (Being built: issue "Announcements that reach
// every household".)
type Service struct{}
