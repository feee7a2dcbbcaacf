import json
from pathlib import Path
from typing import Any

import pytest

from shared.events import (
    ASSET_EVENT_TYPES,
    EVENT_TYPES,
    PAYLOAD_TYPES,
    AssetGenerated,
    GenerateAsset,
    MediaRef,
    OutcomeEvent,
    Payload,
    PayloadError,
    ProviderHealthChanged,
    parse_payload,
    short_type,
)
from shared.status import AssetStatus

GOLDEN = Path(__file__).parent / "golden"
SAMPLES = sorted(GOLDEN.glob("*.json"))
BY_SHORT_TYPE = {t.short_type(): t for t in PAYLOAD_TYPES.values()}


def sample_type(path: Path) -> tuple[type[Payload], int]:
    """`asset.generated.v1.json` → (AssetGenerated, 1)."""
    name, _, version = path.stem.rpartition(".v")
    return BY_SHORT_TYPE[name], int(version)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_the_event_types_are_exactly_those_of_the_design() -> None:
    assert sorted(t.TYPE for t in EVENT_TYPES) == [
        "lecturegen.asset.attempt-started.v1",
        "lecturegen.asset.failed.v1",
        "lecturegen.asset.generated.v1",
        "lecturegen.asset.needs-prompt-update.v1",
        "lecturegen.asset.regeneration-requested.v1",
        "lecturegen.asset.retrying.v1",
        "lecturegen.lecture.created.v1",
    ]
    assert set(PAYLOAD_TYPES) == {t.TYPE for t in EVENT_TYPES} | {
        GenerateAsset.TYPE,
        ProviderHealthChanged.TYPE,
    }


def test_every_type_has_a_golden_sample_of_every_schema_version_and_nothing_else() -> None:
    expected = {
        f"{t.short_type()}.v{v}.json"
        for t in PAYLOAD_TYPES.values()
        for v in range(1, t.SCHEMA_VERSION + 1)
    }

    assert {p.name for p in SAMPLES} == expected


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_each_golden_sample_decodes(path: Path) -> None:
    model, version = sample_type(path)
    data = load(path)
    assert data["schema_version"] == version

    payload = parse_payload(model.TYPE, data)

    assert type(payload) is model
    assert payload.schema_version == model.SCHEMA_VERSION


@pytest.mark.parametrize(
    "path",
    [p for p in SAMPLES if sample_type(p)[1] == sample_type(p)[0].SCHEMA_VERSION],
    ids=lambda p: p.name,
)
def test_a_golden_sample_of_the_current_version_re_encodes_to_the_same_json(path: Path) -> None:
    model, _ = sample_type(path)

    payload = parse_payload(model.TYPE, load(path))

    assert json.loads(payload.model_dump_json()) == load(path)


def test_the_asset_generated_v1_sample_upcasts_to_v2_with_its_media_grouped() -> None:
    v1 = load(GOLDEN / "asset.generated.v1.json")

    payload = parse_payload(AssetGenerated.TYPE, v1)

    assert isinstance(payload, AssetGenerated)
    assert payload.schema_version == 2
    assert payload.media == MediaRef(
        blob_key=v1["media_url"],
        content_type="audio/wav",
        size_bytes=882044,
        duration_s=10.0,
    )
    assert (payload.prompt, payload.model, payload.attempts) == (v1["prompt"], v1["model"], 1)
    assert (payload.provider, payload.retried_count) == (None, 0)


def test_upcasting_leaves_the_callers_data_untouched() -> None:
    v1 = load(GOLDEN / "asset.generated.v1.json")

    parse_payload(AssetGenerated.TYPE, v1)

    assert v1 == load(GOLDEN / "asset.generated.v1.json")


def test_a_v1_asset_generated_without_its_media_fields_is_a_payload_error() -> None:
    v1 = load(GOLDEN / "asset.generated.v1.json")
    del v1["media_url"]

    with pytest.raises(PayloadError, match="cannot upcast"):
        parse_payload(AssetGenerated.TYPE, v1)


@pytest.mark.parametrize("model", list(PAYLOAD_TYPES.values()), ids=lambda t: t.__name__)
def test_a_new_payload_is_written_at_its_types_current_schema_version(
    model: type[Payload],
) -> None:
    assert model.model_fields["schema_version"].default == model.SCHEMA_VERSION


@pytest.mark.parametrize(
    "version", [0, 3, True, "2", None], ids=["zero", "future", "bool", "string", "null"]
)
def test_an_unsupported_schema_version_is_a_payload_error(version: object) -> None:
    data = load(GOLDEN / "asset.generated.v2.json") | {"schema_version": version}

    with pytest.raises(PayloadError, match="unsupported schema_version"):
        parse_payload(AssetGenerated.TYPE, data)


def test_an_unknown_field_is_a_payload_error_naming_it() -> None:
    data = load(GOLDEN / "asset.failed.v1.json") | {"surprise": 1}

    with pytest.raises(PayloadError, match="surprise"):
        parse_payload("lecturegen.asset.failed.v1", data)


def test_an_unknown_type_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match=r"unknown event type 'lecturegen\.asset\.deleted\.v1'"):
        parse_payload("lecturegen.asset.deleted.v1", {})


def test_a_payload_that_is_not_an_object_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="must be a JSON object"):
        parse_payload(GenerateAsset.TYPE, ["not", "an", "object"])


@pytest.mark.parametrize(
    ("ce_type", "short"),
    [
        ("lecturegen.asset.generated.v1", "asset.generated"),
        ("lecturegen.asset.needs-prompt-update.v1", "asset.needs-prompt-update"),
        ("lecturegen.lecture.created.v1", "lecture.created"),
        ("lecturegen.asset.regeneration-requested.v1", "asset.regeneration-requested"),
        ("lecturegen.asset.retrying.v12", "asset.retrying"),
        ("lecturegen.asset.vanished", "asset.vanished"),
    ],
)
def test_short_type_gives_the_sse_event_name(ce_type: str, short: str) -> None:
    assert short_type(ce_type) == short


def test_each_payload_class_knows_its_own_sse_event_name() -> None:
    assert [t.short_type() for t in EVENT_TYPES] == [
        "lecture.created",
        "asset.regeneration-requested",
        "asset.attempt-started",
        "asset.retrying",
        "asset.generated",
        "asset.failed",
        "asset.needs-prompt-update",
    ]


def test_every_asset_event_names_its_status_and_only_outcomes_name_a_terminal_one() -> None:
    statuses = {t.short_type(): t.STATUS for t in ASSET_EVENT_TYPES}

    assert statuses == {
        "asset.regeneration-requested": AssetStatus.PENDING,
        "asset.attempt-started": AssetStatus.PENDING,
        "asset.retrying": AssetStatus.RETRYING,
        "asset.generated": AssetStatus.GENERATED,
        "asset.failed": AssetStatus.FAILED,
        "asset.needs-prompt-update": AssetStatus.NEEDS_PROMPT_UPDATE,
    }
    terminal = {t for t in ASSET_EVENT_TYPES if t.STATUS.is_terminal}
    assert terminal == set(OutcomeEvent.__args__)
