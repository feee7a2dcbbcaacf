"""Provider health: the fleet-wide circuit breaker per (provider, model) (issue 11, decision
0019). `breaker` decides, `outcomes` reads the event log, `messages` is the published record,
`gate` is how a worker follows it."""
