// Package realtime carries events to open browsers: an in-process broker by
// default, NATS across instances.
package realtime

// Broker fans events out to subscribers. (Being built: issue "Area groups
// with realtime messaging".)
type Broker struct{}
