import itertools

import pytest

from lecturegen_cli.stack.components import pipeline
from lecturegen_cli.stack.launch import plan_launch
from lecturegen_cli.stack.scaling import ScaleError, parse_scale

COMPONENTS = pipeline(with_sim=True)


def _plan(env=None, scale=None, previous=None, busy=frozenset()):
    spare = itertools.count(40000)
    return plan_launch(
        env or {},
        is_free=lambda port: port not in busy,
        pick_free=lambda: next(spare),
        new_token=lambda: "t",
        scale=scale,
        previous_ports=previous,
    )


def test_every_consumer_group_service_scales_and_the_counts_are_read():
    values = ["image-worker=3", "dispatcher=2", "timeline-projector=2", "music-worker=1"]
    assert parse_scale(values, COMPONENTS) == {
        "image-worker": 3,
        "dispatcher": 2,
        "timeline-projector": 2,
        "music-worker": 1,
    }


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("api=2", "api does not scale by consumer group"),
        ("replicate-sim=2", "replicate-sim does not scale by consumer group"),
        ("painter=2", "there is no component 'painter'"),
        ("image-worker", "expected NAME=COUNT"),
        ("image-worker=two", "expected NAME=COUNT"),
        ("image-worker=0", "at least one replica"),
    ],
)
def test_a_scale_that_cannot_be_followed_is_refused_naming_what_can(value, says):
    with pytest.raises(ScaleError, match=says) as refused:
        parse_scale([value], COMPONENTS)
    if "does not scale" in says or "no component" in says:
        assert "scalable: audio-worker, dispatcher, image-worker" in str(refused.value)


def test_each_replica_gets_its_own_port_and_the_same_consumer_group():
    launch = _plan({"LECTUREGEN_TOPIC_NAMESPACE": "n."}, scale={"image-worker": 3})
    image = next(c for c in launch.components if c.name == "image-worker")
    assert launch.replicas(image) == ["image-worker", "image-worker-2", "image-worker-3"]
    envs = [
        launch.process_env({"LECTUREGEN_TOPIC_NAMESPACE": "n."}, image, r)
        for r in launch.replicas(image)
    ]
    assert len({e[image.port_env] for e in envs}) == 3
    assert {e["LECTUREGEN_IMAGE_WORKER_GROUP_ID"] for e in envs} == {"n.lecturegen-image-worker"}
    assert len(set(launch.ports.values())) == len(launch.ports)


def test_the_ports_of_the_previous_run_are_taken_again_when_free():
    previous = {"api": 41000, "image-worker": 41001, "image-worker-2": 41002}
    launch = _plan(scale={"image-worker": 2}, previous=previous)
    assert {name: launch.ports[name] for name in previous} == previous
    busy = _plan(scale={"image-worker": 2}, previous=previous, busy=frozenset({41000}))
    assert busy.ports["api"] == 8000  # taken by someone else: the default, as without history


def test_a_port_named_in_the_environment_wins_over_the_previous_run():
    launch = _plan({"LECTUREGEN_API_PORT": "8123"}, previous={"api": 41000})
    assert launch.ports["api"] == 8123


def test_up_refuses_to_scale_the_api_before_starting_anything(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lecturegen_cli.main import app

    monkeypatch.setenv("LECTUREGEN_RUN_DIR", str(tmp_path / "run"))
    result = CliRunner().invoke(app, ["up", "--no-infra", "--scale", "api=2"])
    assert result.exit_code == 2
    assert "api does not scale by consumer group" in result.output
    assert not (tmp_path / "run").exists()
