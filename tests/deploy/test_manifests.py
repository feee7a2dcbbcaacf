"""The deployment files (deploy/compose, deploy/kubernetes, deploy/prometheus, deploy/grafana)
against the code they deploy: every service runs in each of them, every file parses, every
metric queried is one the services export, every variable set is one a settings class reads,
topics are the ones `shared.topics` builds, and every probe, scrape and autoscaler points where
the process really listens."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs in the environment
from prometheus_client import CollectorRegistry
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

import audio_worker.settings
import image_worker.settings
import music_worker.settings
import shared.blobstore.factory  # noqa: F401 (S3Access reads the AWS_* variables)
import video_worker.settings
from api.metrics import ApiMetrics
from api.settings import ApiSettings
from audio_worker.medium import NARRATION
from dispatcher.runner import DispatcherMetrics
from dispatcher.settings import DispatcherSettings
from image_worker.medium import IMAGE
from music_worker.medium import MUSIC
from provider_health.metrics import HealthMetrics
from provider_health.settings import ProviderHealthSettings
from replicate_sim.main import OPTIONS as SIM_OPTIONS
from shared import topics
from shared.consumer_lag import ConsumerLag
from shared.kafka import EVENTS_MAX_MESSAGE_BYTES, TopicSettings, provider_health_topic
from shared.media import MediaKind
from shared.settings import KafkaSettings, RetrySettings
from shared.worker.metrics import WorkerMetrics
from timeline_projector.config import ProjectorSettings
from timeline_projector.metrics import ProjectorMetrics
from video_worker.medium import VIDEO

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
OWN_DIRS = ("compose", "kubernetes", "prometheus", "grafana")
K8S = DEPLOY / "kubernetes"

WORKERS = {
    "lecturegen-image-worker": (image_worker.settings.ImageWorkerSettings, IMAGE.kind),
    "lecturegen-audio-worker": (audio_worker.settings.NarrationWorkerSettings, NARRATION.kind),
    "lecturegen-video-worker": (video_worker.settings.VideoWorkerSettings, VIDEO.kind),
    "lecturegen-music-worker": (music_worker.settings.MusicWorkerSettings, MUSIC.kind),
}
PACKAGES = {
    "shared",
    "api",
    "dispatcher",
    "timeline_projector",
    "provider_health",
    *(w.split("-")[1] + "_worker" for w in WORKERS),
}
"""The packages whose settings classes (all imported above) name the variables we may set."""
SERVICE_SCRIPTS = {
    name
    for path in REPO.glob("services/*/pyproject.toml")
    for name in tomllib.loads(path.read_text())["project"].get("scripts", {})
}
"""The console script of every service under services/: the process its container runs."""
LOCAL_ONLY = {"lecturegen-replicate-sim"}
"""The local stand-in for Replicate: compose runs it under profile `sim`, Kubernetes never."""
EXPORTER_METRICS = {"kafka_consumergroup_lag", "kafka_consumergroup_lag_sum"}
"""Consumer-group lag, from the Kafka exporter (danielqsj/kafka_exporter, as Strimzi runs it)."""
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
}
METRIC = re.compile(r"\b(?:lecturegen|kafka)_[a-zA-Z0-9_]+")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}")


def documents(path: Path) -> list[Any]:
    if path.suffix == ".json":
        return [json.loads(path.read_text())]
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def k8s_objects(kind: str) -> list[dict[str, Any]]:
    return [d for p in sorted(K8S.rglob("*.yaml")) for d in documents(p) if d.get("kind") == kind]


COMPOSE = documents(DEPLOY / "compose" / "compose.yaml")[0]
APP_SERVICES = {
    n: s for n, s in COMPOSE["services"].items() if s.get("image") == "lecturegen:local"
}
DEPLOYMENTS = {d["metadata"]["name"]: d for d in k8s_objects("Deployment")}
CONFIG = next(c for c in k8s_objects("ConfigMap") if c["metadata"]["name"] == "lecturegen-config")
KAFKA_TOPICS = {t["spec"]["topicName"]: t["spec"] for t in k8s_objects("KafkaTopic")}


def exported_metric_names() -> set[str]:
    """Every sample name the services' registries can expose."""
    registries = [
        ApiMetrics().registry,
        DispatcherMetrics().registry,
        ProjectorMetrics().registry,
        HealthMetrics().registry,
        WorkerMetrics(MediaKind.IMAGE).registry,
        _consumer_lag_registry(),
    ]
    return {
        family.name + suffix
        for registry in registries
        for family in registry.collect()
        for suffix in SAMPLE_SUFFIXES[family.type]
    }


def _consumer_lag_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ConsumerLag(registry, "lecturegen-group")
    return registry


def settings_variables() -> set[str]:
    """Every environment variable a pydantic-settings class of lecturegen reads, and the
    local provider's `REPLICATE_SIM_*` options."""
    classes: list[type[BaseSettings]] = []
    pending: list[type[BaseSettings]] = [BaseSettings]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.split(".")[0] in PACKAGES:
            classes.append(cls)
    names = {option.env for option in SIM_OPTIONS}
    for cls in classes:
        prefix = cls.model_config.get("env_prefix", "")
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias
            if isinstance(alias, str):
                names.add(alias.upper())
            elif isinstance(alias, AliasChoices):
                names |= {c.upper() for c in alias.choices if isinstance(c, str)}
            else:
                names.add(f"{prefix}{field_name}".upper())
    return names


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's environment with `${VAR:-default}` resolved to its default (and a
    required `${VAR:?...}` to a stand-in value)."""
    return {
        key: INTERPOLATION.sub(lambda m: m.group(2) or "set-by-operator", str(value))
        for key, value in service.get("environment", {}).items()
    }


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    spec: dict[str, Any] = only
    return spec


def container_env(deployment: dict[str, Any]) -> dict[str, str]:
    """A container's environment: the ConfigMap, then its own `env` (secrets as stand-ins)."""
    env = dict(CONFIG["data"])
    for var in container(deployment).get("env", []):
        env[var["name"]] = str(var.get("value", "from-a-secret"))
    return env


UseEnvironment = Callable[[Mapping[str, str]], None]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> UseEnvironment:
    """Sets exactly the given variables (and none of the developer's) for a settings class."""

    def use(env: Mapping[str, str]) -> None:
        for name in list(os.environ):
            if name.startswith(("LECTUREGEN_", "MEDIA_GENERATION_", "REPLICATE_", "KAFKA_")):
                monkeypatch.delenv(name)
        monkeypatch.delenv("DATABASE_URL", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return use


def listen_address(script: str) -> tuple[str, int]:
    """Where the process of `script` serves /healthz and /metrics, as its main() reads it."""
    if script == "lecturegen-api":
        api = ApiSettings()
        return api.host, api.port
    if script == "lecturegen-dispatcher":
        dispatcher = DispatcherSettings()
        return dispatcher.metrics_host, dispatcher.metrics_port
    if script == "lecturegen-timeline-projector":
        projector = ProjectorSettings()
        return projector.metrics_host, projector.metrics_port
    if script == "lecturegen-provider-health":
        health = ProviderHealthSettings()
        return health.metrics_host, health.metrics_port
    worker = WORKERS[script][0]()
    return worker.metrics_host, worker.metrics_port


def test_every_service_runs_in_compose_and_in_kubernetes() -> None:
    in_compose = {s["command"][0] for s in APP_SERVICES.values()}
    in_kubernetes = {container(d)["command"][0] for d in DEPLOYMENTS.values()}
    assert len(SERVICE_SCRIPTS) >= 9
    assert in_compose == SERVICE_SCRIPTS
    assert in_kubernetes == SERVICE_SCRIPTS - LOCAL_ONLY


def test_every_yaml_and_json_file_under_deploy_parses() -> None:
    paths = [
        p
        for d in OWN_DIRS
        for p in sorted((DEPLOY / d).rglob("*"))
        if p.suffix in {".yaml", ".yml", ".json"}
    ]
    assert len(paths) >= 20
    for path in paths:
        assert documents(path), f"{path} is empty"


def test_alerts_and_dashboard_query_only_metrics_the_services_export() -> None:
    known = exported_metric_names() | EXPORTER_METRICS
    [alerts] = documents(DEPLOY / "prometheus" / "alerts.yml")
    exprs = {r["alert"]: r["expr"] for g in alerts["groups"] for r in g["rules"]}
    [dashboard] = documents(DEPLOY / "grafana" / "dashboards" / "lecturegen.json")
    exprs |= {
        f"{p['title']} {t['refId']}": t["expr"]
        for p in dashboard["panels"]
        for t in p.get("targets", [])
    }
    assert len(exprs) > 20
    for name, expr in exprs.items():
        used = set(METRIC.findall(expr))
        assert used or name == "LecturegenTargetDown", f"{name} queries no metric of ours"
        assert used <= known, f"{name} queries unknown metrics {sorted(used - known)}"


@pytest.mark.parametrize("service", sorted(APP_SERVICES))
def test_every_variable_a_compose_service_gets_is_read_by_a_settings_class(service: str) -> None:
    unread = set(compose_env(APP_SERVICES[service])) - settings_variables()
    assert not unread, f"{service}: nothing reads {sorted(unread)}"


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_every_variable_a_deployment_gets_is_read_by_a_settings_class(name: str) -> None:
    secrets = {k for s in k8s_objects("Secret") for k in s.get("stringData", {})}
    unread = (set(container_env(DEPLOYMENTS[name])) | secrets) - settings_variables()
    assert not unread, f"{name}: nothing reads {sorted(unread)}"


def test_kafka_topics_are_exactly_those_shared_topics_builds_for_the_configured_policy(
    environment: UseEnvironment,
) -> None:
    environment(CONFIG["data"])
    policy = RetrySettings().policy()
    wanted = {topics.events(), topics.provider_health()}
    for kind in MediaKind:
        wanted |= {topics.requests(kind), topics.dead_letter(kind)}
        wanted |= set(topics.retry_tiers(kind, policy.tiers_ms).values())
    assert set(KAFKA_TOPICS) == wanted
    assert all(
        t["replicas"] == 3 and t["config"]["min.insync.replicas"] == "2"
        for t in KAFKA_TOPICS.values()
    )
    assert KAFKA_TOPICS[topics.events()]["config"]["retention.ms"] == "-1"
    events_config = KAFKA_TOPICS[topics.events()]["config"]
    assert events_config["max.message.bytes"] == str(EVENTS_MAX_MESSAGE_BYTES)
    health = provider_health_topic("", TopicSettings())
    health_topic = KAFKA_TOPICS[health.name]
    assert health_topic["partitions"] == health.partitions
    assert health_topic["config"] == {"min.insync.replicas": "2", **health.config}


@pytest.mark.parametrize("source", ["kubernetes", "compose"])
def test_topics_a_service_creates_get_the_counts_of_the_kafka_topic_resources(
    source: str, environment: UseEnvironment
) -> None:
    environment(CONFIG["data"] if source == "kubernetes" else compose_env(APP_SERVICES["api"]))
    counts = TopicSettings()
    assert counts.replication_factor == 3
    assert KAFKA_TOPICS[topics.events()]["partitions"] == counts.events_partitions
    for kind in MediaKind:
        assert KAFKA_TOPICS[topics.requests(kind)]["partitions"] == counts.request_partitions
        assert KAFKA_TOPICS[topics.dead_letter(kind)]["partitions"] == counts.dead_letter_partitions
        for name in topics.retry_tiers(kind, RetrySettings().policy().tiers_ms).values():
            assert KAFKA_TOPICS[name]["partitions"] == counts.tier_partitions


def test_both_kafka_clusters_keep_three_replicas_and_need_two_in_sync() -> None:
    [kafka] = k8s_objects("Kafka")
    config = kafka["spec"]["kafka"]["config"]
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == (3, 2)
    assert not config["auto.create.topics.enable"]
    brokers = [s for s in COMPOSE["services"].values() if s["image"].startswith("apache/kafka")]
    assert len(brokers) == 3
    for broker in brokers:
        env = broker["environment"]
        assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == (
            "3",
            "2",
        )


def test_each_worker_scales_on_its_own_group_and_request_topic_within_its_partitions(
    environment: UseEnvironment,
) -> None:
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s["spec"] for s in k8s_objects("ScaledObject")}
    workers = {n: d for n, d in DEPLOYMENTS.items() if container(d)["command"][0] in WORKERS}
    assert set(scaled) == set(workers)
    assert len(workers) == 4
    for name, deployment in workers.items():
        settings_class, kind = WORKERS[container(deployment)["command"][0]]
        environment(container_env(deployment))
        spec, [trigger] = scaled[name], scaled[name]["triggers"]
        meta = trigger["metadata"]
        # The group id as shared.worker.entry.open_worker chooses it.
        group = settings_class().group_id or f"lecturegen-{kind.value}-worker"
        assert meta["consumerGroup"] == group
        assert meta["topic"] == topics.requests(kind, KafkaSettings().topic_namespace)
        assert meta["bootstrapServers"] == KafkaSettings().bootstrap_servers
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert spec["maxReplicaCount"] <= KAFKA_TOPICS[meta["topic"]]["partitions"]


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_probes_and_scrapes_of_a_deployment_reach_its_process(
    name: str, environment: UseEnvironment
) -> None:
    spec = container(DEPLOYMENTS[name])
    environment(container_env(DEPLOYMENTS[name]))
    host, port = listen_address(spec["command"][0])
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    endpoints = {
        e["port"] for m in k8s_objects("PodMonitor") for e in m["spec"]["podMetricsEndpoints"]
    }
    [(port_name, container_port)] = ports.items()
    assert (host, container_port) == ("0.0.0.0", port)
    assert port_name in endpoints
    for probe in ("livenessProbe", "readinessProbe"):
        assert spec[probe]["httpGet"]["port"] == port_name
        assert spec[probe]["httpGet"]["path"] in {"/healthz", "/readyz"}


@pytest.mark.parametrize("service", sorted(set(APP_SERVICES) - {"replicate-sim"}))
def test_healthcheck_and_scrape_of_a_compose_service_reach_its_process(
    service: str, environment: UseEnvironment
) -> None:
    definition = APP_SERVICES[service]
    environment(compose_env(definition))
    host, port = listen_address(definition["command"][0])
    assert host == "0.0.0.0"
    assert f"http://127.0.0.1:{port}/" in " ".join(definition["healthcheck"]["test"])
    [prometheus] = documents(DEPLOY / "prometheus" / "prometheus.compose.yml")
    [job] = [j for j in prometheus["scrape_configs"] if j["job_name"] == definition["command"][0]]
    assert job["dns_sd_configs"] == [{"names": [service], "type": "A", "port": port}]


def test_local_prometheus_scrapes_every_process_at_its_default_port(
    environment: UseEnvironment,
) -> None:
    environment({})
    [prometheus] = documents(DEPLOY / "prometheus" / "prometheus.yml")
    jobs = {j["job_name"]: j["static_configs"] for j in prometheus["scrape_configs"]}
    assert set(jobs) == SERVICE_SCRIPTS - LOCAL_ONLY
    for script, [static] in jobs.items():
        assert static["targets"] == [f"127.0.0.1:{listen_address(script)[1]}"]
        assert static["labels"]["component"]


def test_containers_run_console_scripts_the_workspace_installs() -> None:
    commands = [s["command"][0] for s in APP_SERVICES.values()]
    commands += [container(d)["command"][0] for d in DEPLOYMENTS.values()]
    assert len(commands) == 17
    assert set(commands) <= SERVICE_SCRIPTS


def test_each_kustomization_lists_every_manifest_of_its_folder() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        [spec] = documents(kustomization)
        manifests = {p.name for p in kustomization.parent.glob("*.yaml")} - {kustomization.name}
        assert set(spec["resources"]) == manifests, kustomization


def test_compose_mounts_prometheus_rules_and_grafana_dashboards_where_their_configs_look() -> None:
    def mounts(service: str) -> dict[str, str]:
        volumes = [v.split(":") for v in COMPOSE["services"][service]["volumes"]]
        return {target: source for source, target, *_ in volumes}

    prometheus = mounts("prometheus")
    config = documents(DEPLOY / "compose" / prometheus["/etc/prometheus/prometheus.yml"])[0]
    for rules in config["rule_files"]:
        assert (DEPLOY / "compose" / prometheus[f"/etc/prometheus/{rules}"]).is_file()
    grafana = mounts("grafana")
    [provider] = documents(DEPLOY / "grafana/provisioning/dashboards/lecturegen.yaml")[0][
        "providers"
    ]
    dashboards = DEPLOY / "compose" / grafana[provider["options"]["path"]]
    assert (dashboards / "lecturegen.json").is_file()
    assert (DEPLOY / "compose" / grafana["/etc/grafana/provisioning"]).is_dir()
