// Package group owns community groups per area or organisation: members,
// join policies, messages, replies, reactions, pins and moderation.
package group

// Service is the group room. (Being built: issue "Area groups with realtime
// messaging".)
type Service struct{}
