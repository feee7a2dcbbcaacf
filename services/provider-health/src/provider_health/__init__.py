"""The fleet-wide circuit breaker over the event log."""
