"""What `up` decides on top of the environment it was started with: ports, the API token and
where the provider is. Pure; the caller passes in how to probe ports and make a token."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from api.settings import ApiSettings
from lecturegen_cli.stack.components import REPLICATE_SIM, Component, pipeline
from lecturegen_cli.stack.scaling import replica_names
from shared.settings import KafkaSettings, PostgresSettings, ProviderSettings
from shared.variables import names, variable
from shared.webhooks.settings import WebhookSettings

SIM_PROVIDER = "replicate-sim"
REAL_PROVIDER = "replicate"
WEBHOOK_ROUTE = "/v1/webhooks/replicate"
SIM_API_TOKEN = "lecturegen-local-sim"
"""The token the workers present to the local server, which accepts any token."""

# The variables `up` sets or reads, named by the settings that read them.
API_TOKENS = variable(ApiSettings, "tokens")
TOPIC_NAMESPACE = variable(KafkaSettings, "topic_namespace")
KAFKA_BOOTSTRAP = names(KafkaSettings, "bootstrap_servers")
DATABASE_URL = names(PostgresSettings, "dsn")
PROVIDER_TOKEN = variable(ProviderSettings, "api_token")
PROVIDER_URL = names(ProviderSettings, "base_url")
OUTPUT_HOSTS = variable(ProviderSettings, "allowed_output_hosts")
WEBHOOK_URL = variable(WebhookSettings, "url")


@dataclass(frozen=True, slots=True)
class Launch:
    """The decisions of one `up`."""

    components: tuple[Component, ...]
    ports: dict[str, int]
    """By process name: a component's replicas each have their own."""
    api_token: str
    provider: str
    env: dict[str, str] = field(default_factory=dict)
    """Added to every process's environment."""
    scale: dict[str, int] = field(default_factory=dict)
    """Replicas per component, where more than one."""

    def port(self, component: Component) -> int:
        return self.ports[component.name]

    def replicas(self, component: Component) -> list[str]:
        """The process names of `component`'s replicas (just its name when it runs once)."""
        return replica_names(component, self.scale)

    def process_env(
        self, base: Mapping[str, str], component: Component, replica: str | None = None
    ) -> dict[str, str]:
        """The whole environment of one process (`replica`, default the component's first):
        the caller's, the decisions, its port, and in a topic namespace its consumer group
        prefixed with the namespace, so two runs in different namespaces never share a group.
        Replicas differ only in their port; they share the group."""
        port = self.ports[replica or component.name]
        env = {**base, **self.env, component.port_env: str(port)}
        consumes = component.consumes
        if consumes is not None and env.get(TOPIC_NAMESPACE):
            env[consumes.group_env] = consumes.group(env)
        return env

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"


def plan_launch(
    env: Mapping[str, str],
    *,
    is_free: Callable[[int], bool],
    pick_free: Callable[[], int],
    new_token: Callable[[], str],
    scale: Mapping[str, int] | None = None,
    previous_ports: Mapping[str, int] | None = None,
) -> Launch:
    """Decide ports, token and provider for a run started with environment `env`, with
    `scale` replicas of the components named there (checked by `scaling.parse_scale`).

    A port named in the environment is taken as given (by a component's first replica);
    otherwise the port the same process had in the previous run (`previous_ports`) when it is
    free, then the component's default when free, else any free port. A real
    `REPLICATE_API_TOKEN` sends the workers to Replicate; without one they go to the local
    Replicate-compatible server, which calls the API's webhook route when predictions complete
    (unless `LECTUREGEN_WEBHOOK_URL` is set, even empty).
    """
    real = bool(env.get(PROVIDER_TOKEN))
    components = pipeline(with_sim=not real)
    counts = {name: n for name, n in (scale or {}).items() if n > 1}
    ports = _choose_ports(components, counts, env, previous_ports or {}, is_free, pick_free)
    added: dict[str, str] = {"PYTHONUNBUFFERED": "1"}

    tokens = [t.strip() for t in env.get(API_TOKENS, "").split(",") if t.strip()]
    token = tokens[0] if tokens else new_token()
    if not tokens:
        added[API_TOKENS] = token

    kafka_port = env.get("LECTUREGEN_KAFKA_PORT")
    if kafka_port and not any(env.get(name) for name in KAFKA_BOOTSTRAP):
        added[KAFKA_BOOTSTRAP[-1]] = f"127.0.0.1:{kafka_port}"

    pg_port = env.get("LECTUREGEN_POSTGRES_PORT")
    if pg_port and not any(env.get(name) for name in DATABASE_URL):
        added[DATABASE_URL[-1]] = f"postgresql://lecturegen@127.0.0.1:{pg_port}/lecturegen"

    if not real:
        added[PROVIDER_TOKEN] = SIM_API_TOKEN
        added[PROVIDER_URL[-1]] = f"http://127.0.0.1:{ports[REPLICATE_SIM.name]}"
        if not env.get(OUTPUT_HOSTS):
            # The local server hands out larger files as URLs on itself.
            added[OUTPUT_HOSTS] = '["127.0.0.1"]'
        if WEBHOOK_URL not in env:
            # The local server can call the API back; set the variable empty to poll instead.
            added[WEBHOOK_URL] = f"http://127.0.0.1:{ports['api']}{WEBHOOK_ROUTE}"
    return Launch(
        components=components,
        ports=ports,
        api_token=token,
        provider=REAL_PROVIDER if real else SIM_PROVIDER,
        env=added,
        scale=counts,
    )


def _choose_ports(
    components: tuple[Component, ...],
    scale: Mapping[str, int],
    env: Mapping[str, str],
    previous: Mapping[str, int],
    is_free: Callable[[int], bool],
    pick_free: Callable[[], int],
) -> dict[str, int]:
    shared_vars = _shared_port_vars(components)
    given = {
        c.name: int(env[c.port_env])
        for c in components
        if c.port_env not in shared_vars and env.get(c.port_env)
    }
    ports: dict[str, int] = dict(given)
    for component in components:
        for name in replica_names(component, scale):
            if name in ports:
                continue
            taken = set(ports.values()) | set(given.values())
            candidates = [previous.get(name)]
            if name == component.name:
                candidates.append(component.default_port)
            port = next(
                (p for p in candidates if p and p not in taken and is_free(p)), None
            ) or _any_free(taken, pick_free)
            ports[name] = port
    return ports


def _any_free(taken: set[int], pick_free: Callable[[], int]) -> int:
    port = pick_free()
    while port in taken:
        port = pick_free()
    return port


def _shared_port_vars(components: tuple[Component, ...]) -> set[str]:
    """Port variables several components read: one value cannot serve them all."""
    seen: set[str] = set()
    shared: set[str] = set()
    for component in components:
        (shared if component.port_env in seen else seen).add(component.port_env)
    return shared
