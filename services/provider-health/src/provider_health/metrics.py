"""The provider-health job's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from shared.health.breaker import Circuit, State
from shared.health.outcomes import split_key


class HealthMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._open = Gauge(
            "lecturegen_provider_circuit_open",
            "1 while the provider/model's circuit is open or half-open, else 0",
            ["provider", "model"],
            registry=self.registry,
        )
        self._state = Gauge(
            "lecturegen_provider_circuit_state",
            "1 for the circuit's current state, 0 for the others",
            ["provider", "model", "state"],
            registry=self.registry,
        )

    def show(self, key: str, circuit: Circuit) -> None:
        provider, model = split_key(key)
        self._open.labels(provider, model).set(0 if circuit.state is State.CLOSED else 1)
        for state in State:
            self._state.labels(provider, model, state.value).set(int(state is circuit.state))
