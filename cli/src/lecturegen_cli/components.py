"""The processes of a local run: what each one is started with and where it listens.

Each service reads its own settings from the environment; this table knows only the variable
that carries each one's port, so `up` can hand out ports that are free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared import topics
from shared.media import MediaKind
from shared.retry import RetryPolicy

TopicsOf = Callable[[str, RetryPolicy], list[str]]
"""The topics a consumer reads, given the topic namespace and the retry policy."""


@dataclass(frozen=True, slots=True)
class Consumes:
    """What a consuming component reads, so `status` can show its lag."""

    topics: TopicsOf
    group_env: str
    """The variable naming its consumer group."""
    default_group: str
    offsets_in_postgres: bool = False
    """It stores its offsets next to its views (the projector), not in Kafka."""

    def group(self, env: Mapping[str, str]) -> str:
        """The group named in `env`, else the service's default, prefixed with the topic
        namespace: two runs in different namespaces never share a consumer group."""
        namespace = env.get("LECTUREGEN_TOPIC_NAMESPACE", "")
        return env.get(self.group_env) or f"{namespace}{self.default_group}"


@dataclass(frozen=True, slots=True)
class Component:
    """One kind of process `up` runs."""

    name: str
    script: str
    """Its console script."""
    port_env: str
    """The environment variable its port is read from."""
    default_port: int
    args: tuple[str, ...] = ()
    """Extra arguments; `{port}` is replaced by the chosen port."""
    address_path: str = ""
    """Appended to `http://127.0.0.1:<port>` to give the address `status` shows."""
    stop_stage: int = 1
    """Stages stop in ascending order: the API first, the provider last."""
    consumes: Consumes | None = None

    def command(self, port: int) -> tuple[str, ...]:
        return (self.script, *(arg.replace("{port}", str(port)) for arg in self.args))

    def address(self, port: int) -> str:
        return f"http://127.0.0.1:{port}{self.address_path}"


REPLICATE_SIM = Component(
    name="replicate-sim",
    script="lecturegen-replicate-sim",
    port_env="REPLICATE_SIM_PORT",
    default_port=18080,
    args=("--host", "127.0.0.1", "--port", "{port}"),
    stop_stage=3,
)
API = Component(
    name="api",
    script="lecturegen-api",
    port_env="LECTUREGEN_API_PORT",
    default_port=8000,
    stop_stage=0,
)


def _event_log(namespace: str, policy: RetryPolicy) -> list[str]:
    return [topics.events(namespace)]


DISPATCHER = Component(
    name="dispatcher",
    script="lecturegen-dispatcher",
    port_env="LECTUREGEN_DISPATCHER_METRICS_PORT",
    default_port=9100,
    consumes=Consumes(_event_log, "LECTUREGEN_DISPATCHER_GROUP_ID", "lecturegen-dispatcher"),
)
PROJECTOR = Component(
    name="timeline-projector",
    script="lecturegen-timeline-projector",
    port_env="LECTUREGEN_PROJECTOR_METRICS_PORT",
    default_port=9105,
    stop_stage=2,
    consumes=Consumes(
        _event_log,
        "LECTUREGEN_PROJECTOR_GROUP_ID",
        "lecturegen-timeline-projector",
        offsets_in_postgres=True,
    ),
)
PROVIDER_HEALTH = Component(
    name="provider-health",
    script="lecturegen-provider-health",
    port_env="LECTUREGEN_PROVIDER_HEALTH_METRICS_PORT",
    default_port=9106,
    consumes=Consumes(
        _event_log, "LECTUREGEN_PROVIDER_HEALTH_APP_ID", "lecturegen-provider-health"
    ),
)
"""The circuit breaker the workers follow (decision 0019)."""

WORKER_NAMES: dict[MediaKind, str] = {
    MediaKind.IMAGE: "image-worker",
    MediaKind.NARRATION: "audio-worker",
    MediaKind.VIDEO: "video-worker",
    MediaKind.MUSIC: "music-worker",
}


def _worker(kind: MediaKind, port: int) -> Component:
    name = WORKER_NAMES[kind]
    prefix = f"LECTUREGEN_{name.replace('-', '_').upper()}_"

    def requests_and_tiers(namespace: str, policy: RetryPolicy) -> list[str]:
        tiers = topics.retry_tiers(kind, policy.tiers_ms, namespace)
        return [topics.requests(kind, namespace), *tiers.values()]

    return Component(
        name=name,
        script=f"lecturegen-{name}",
        port_env=f"{prefix}METRICS_PORT",
        default_port=port,
        consumes=Consumes(requests_and_tiers, f"{prefix}GROUP_ID", f"lecturegen-{kind}-worker"),
    )


WORKERS = tuple(_worker(kind, 9101 + i) for i, kind in enumerate(WORKER_NAMES))


def pipeline(*, with_sim: bool) -> tuple[Component, ...]:
    """The processes of one run, in start order; the local provider only without a token."""
    core = (PROJECTOR, PROVIDER_HEALTH, DISPATCHER, *WORKERS, API)
    return (REPLICATE_SIM, *core) if with_sim else core
