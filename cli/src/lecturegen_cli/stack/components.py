"""The processes of a local run: what each one is started with and where it listens.

Each service reads its own settings from the environment. This table names, from those
settings classes (never a copy), the variable that carries each one's port and consumer group
and their defaults, so `up` can hand out ports that are free and `status` can find the groups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from api.settings import ApiSettings
from audio_worker.settings import NarrationWorkerSettings
from dispatcher.settings import DispatcherSettings
from image_worker.settings import ImageWorkerSettings
from music_worker.settings import MusicWorkerSettings
from replicate_sim.main import PORT as SIM_PORT
from shared import topics
from shared.media import MediaKind
from shared.retry import RetryPolicy
from shared.settings import KafkaSettings, ServiceSettings
from shared.variables import default, variable
from shared.worker.settings import WorkerSettings, default_group
from timeline_projector.config import ProjectorSettings
from video_worker.settings import VideoWorkerSettings

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
        namespace = env.get(variable(KafkaSettings, "topic_namespace"), "")
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
    port_env=SIM_PORT.env,
    default_port=int(SIM_PORT.default or 0),
    args=("--host", "127.0.0.1", "--port", "{port}"),
    stop_stage=3,
)
API = Component(
    name="api",
    script="lecturegen-api",
    port_env=variable(ApiSettings, "port"),
    default_port=default(ApiSettings, "port"),
    stop_stage=0,
)


def _consumer(
    name: str,
    settings: type[ServiceSettings],
    reads: TopicsOf,
    *,
    group: str | None = None,
    stop_stage: int = 1,
    offsets_in_postgres: bool = False,
) -> Component:
    """A service that consumes in a group, named by its settings: the variables of its
    metrics port and its group, their defaults (`group` where the settings have none)."""
    return Component(
        name=name,
        script=f"lecturegen-{name}",
        port_env=variable(settings, "metrics_port"),
        default_port=default(settings, "metrics_port"),
        stop_stage=stop_stage,
        consumes=Consumes(
            reads,
            variable(settings, "group_id"),
            group or default(settings, "group_id"),
            offsets_in_postgres=offsets_in_postgres,
        ),
    )


def _event_log(namespace: str, policy: RetryPolicy) -> list[str]:
    return [topics.events(namespace)]


DISPATCHER = _consumer("dispatcher", DispatcherSettings, _event_log)
PROJECTOR = _consumer(
    "timeline-projector", ProjectorSettings, _event_log, stop_stage=2, offsets_in_postgres=True
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

WORKER_SETTINGS: dict[MediaKind, tuple[str, type[WorkerSettings]]] = {
    MediaKind.IMAGE: ("image-worker", ImageWorkerSettings),
    MediaKind.NARRATION: ("audio-worker", NarrationWorkerSettings),
    MediaKind.VIDEO: ("video-worker", VideoWorkerSettings),
    MediaKind.MUSIC: ("music-worker", MusicWorkerSettings),
}
"""Each medium's worker: its process name and the settings it reads."""


def _worker(kind: MediaKind) -> Component:
    name, settings = WORKER_SETTINGS[kind]

    def requests_and_tiers(namespace: str, policy: RetryPolicy) -> list[str]:
        tiers = topics.retry_tiers(kind, policy.tiers_ms, namespace)
        return [topics.requests(kind, namespace), *tiers.values()]

    return _consumer(name, settings, requests_and_tiers, group=default_group(kind))


WORKERS = tuple(_worker(kind) for kind in WORKER_SETTINGS)


def pipeline(*, with_sim: bool) -> tuple[Component, ...]:
    """The processes of one run, in start order; the local provider only without a token."""
    core = (PROJECTOR, PROVIDER_HEALTH, DISPATCHER, *WORKERS, API)
    return (REPLICATE_SIM, *core) if with_sim else core
