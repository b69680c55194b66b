// Package request owns everything a resident asks of government, as one
// engine: service types, intake, routing, workflow, deadlines on the
// working-hours clock, escalation, and Open311 GeoReport v2.
package request

// Service is the request room. (Being built: issue "Residents' requests,
// owned and on the clock".)
type Service struct{}
