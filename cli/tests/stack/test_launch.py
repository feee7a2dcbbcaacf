import itertools

from lecturegen_cli.stack.launch import SIM_PROVIDER, plan_launch


def _plan(env, busy=frozenset()):
    spare = itertools.count(40000)
    return plan_launch(
        env,
        is_free=lambda port: port not in busy,
        pick_free=lambda: next(spare),
        new_token=lambda: "generated-token",
    )


def test_without_a_replicate_token_the_workers_are_pointed_at_the_local_server():
    launch = _plan({})
    assert launch.provider == SIM_PROVIDER
    assert "replicate-sim" in launch.ports
    assert launch.env["REPLICATE_BASE_URL"] == f"http://127.0.0.1:{launch.ports['replicate-sim']}"
    assert launch.env["REPLICATE_API_TOKEN"]
    assert launch.env["LECTUREGEN_ALLOWED_OUTPUT_HOSTS"] == '["127.0.0.1"]'


def test_with_a_replicate_token_there_is_no_local_server_and_no_provider_override():
    launch = _plan({"REPLICATE_API_TOKEN": "r8_real"})
    assert launch.provider == "replicate"
    assert "replicate-sim" not in launch.ports
    assert "REPLICATE_BASE_URL" not in launch.env
    assert "REPLICATE_API_TOKEN" not in launch.env


def test_a_token_is_generated_and_handed_to_the_api_when_none_is_configured():
    launch = _plan({})
    assert launch.api_token == "generated-token"
    assert launch.env["LECTUREGEN_API_TOKENS"] == "generated-token"


def test_configured_api_tokens_are_kept_and_the_first_one_is_shown():
    launch = _plan({"LECTUREGEN_API_TOKENS": " first , second"})
    assert launch.api_token == "first"
    assert "LECTUREGEN_API_TOKENS" not in launch.env


def test_default_ports_are_used_when_free_and_busy_ones_are_replaced():
    launch = _plan({}, busy=frozenset({8000}))
    assert launch.ports["api"] == 40000
    assert launch.ports["replicate-sim"] == 18080
    assert len(set(launch.ports.values())) == len(launch.ports)


def test_a_port_named_in_the_environment_is_taken_as_given():
    launch = _plan({"LECTUREGEN_API_PORT": "8123"}, busy=frozenset({8123}))
    assert launch.ports["api"] == 8123
    assert launch.api_url == "http://127.0.0.1:8123"


def test_each_process_gets_its_own_port_variable_on_top_of_the_shared_environment():
    launch = _plan({"KEEP": "me"})
    image = next(c for c in launch.components if c.name == "image-worker")
    env = launch.process_env({"KEEP": "me"}, image)
    assert env["KEEP"] == "me"
    assert env[image.port_env] == str(launch.ports["image-worker"])
    assert env["PYTHONUNBUFFERED"] == "1"


def test_a_custom_kafka_port_becomes_the_bootstrap_address_unless_one_is_set():
    assert _plan({"LECTUREGEN_KAFKA_PORT": "29092"}).env["KAFKA_BOOTSTRAP_SERVERS"] == (
        "127.0.0.1:29092"
    )
    given = {"LECTUREGEN_KAFKA_PORT": "29092", "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"}
    assert "KAFKA_BOOTSTRAP_SERVERS" not in _plan(given).env


def test_in_a_topic_namespace_consumer_groups_get_the_namespace_as_prefix():
    env = {"LECTUREGEN_TOPIC_NAMESPACE": "e2e1."}
    launch = _plan(env)
    by_name = {c.name: c for c in launch.components}
    image_env = launch.process_env(env, by_name["image-worker"])
    assert image_env["LECTUREGEN_IMAGE_WORKER_GROUP_ID"] == "e2e1.lecturegen-image-worker"
    projector_env = launch.process_env(env, by_name["timeline-projector"])
    assert projector_env["LECTUREGEN_PROJECTOR_GROUP_ID"] == "e2e1.lecturegen-timeline-projector"


def test_a_configured_group_is_kept_and_no_namespace_means_the_services_defaults():
    env = {"LECTUREGEN_TOPIC_NAMESPACE": "e2e1.", "LECTUREGEN_DISPATCHER_GROUP_ID": "mine"}
    launch = _plan(env)
    dispatcher = next(c for c in launch.components if c.name == "dispatcher")
    assert launch.process_env(env, dispatcher)["LECTUREGEN_DISPATCHER_GROUP_ID"] == "mine"
    plain = _plan({})
    assert "LECTUREGEN_DISPATCHER_GROUP_ID" not in plain.process_env({}, dispatcher)


def test_a_custom_postgres_port_becomes_the_database_url_unless_one_is_set():
    assert _plan({"LECTUREGEN_POSTGRES_PORT": "5433"}).env["DATABASE_URL"] == (
        "postgresql://lecturegen@127.0.0.1:5433/lecturegen"
    )
    given = {"LECTUREGEN_POSTGRES_PORT": "5433", "DATABASE_URL": "postgresql://db/x"}
    assert "DATABASE_URL" not in _plan(given).env


def test_the_rebuild_compares_against_the_group_the_live_projector_got_from_up():
    from lecturegen_cli.ops.rebuild import projector_settings

    env = {"LECTUREGEN_TOPIC_NAMESPACE": "e2e1."}
    launch = _plan(env)
    projector = next(c for c in launch.components if c.name == "timeline-projector")
    live_group = launch.process_env(env, projector)["LECTUREGEN_PROJECTOR_GROUP_ID"]
    assert projector_settings(env).projector.group_id == live_group
    assert projector_settings({}).projector.group_id == "lecturegen-timeline-projector"


def test_with_the_local_server_the_workers_wait_for_webhooks_on_the_apis_route():
    launch = _plan({}, busy=frozenset({8000}))
    api = launch.ports["api"]
    assert launch.env["LECTUREGEN_WEBHOOK_URL"] == f"http://127.0.0.1:{api}/v1/webhooks/replicate"


def test_a_webhook_url_in_the_environment_is_kept_even_empty():
    assert "LECTUREGEN_WEBHOOK_URL" not in _plan({"LECTUREGEN_WEBHOOK_URL": ""}).env
    assert "LECTUREGEN_WEBHOOK_URL" not in _plan({"REPLICATE_API_TOKEN": "r8_real"}).env
