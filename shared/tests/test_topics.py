import pytest

from shared import topics
from shared.media import MediaKind
from shared.retry import RetryPolicy

KINDS = list(MediaKind)


@pytest.mark.parametrize("kind", KINDS)
def test_each_medium_has_a_request_topic(kind: MediaKind) -> None:
    assert topics.requests(kind) == f"lecturegen.{kind}.requests.v1"


def test_topic_names_follow_the_design() -> None:
    assert topics.requests(MediaKind.IMAGE) == "lecturegen.image.requests.v1"
    assert topics.retry_tier(MediaKind.NARRATION, 5_000) == "lecturegen.narration.retry.5s.v1"
    assert topics.dead_letter(MediaKind.MUSIC) == "lecturegen.music.dlt.v1"
    assert topics.events() == topics.EVENTS == "lecturegen.events.v1"
    assert topics.provider_health() == "lecturegen.provider-health.v1"


@pytest.mark.parametrize("kind", KINDS)
def test_each_medium_has_a_dead_letter_topic(kind: MediaKind) -> None:
    assert topics.dead_letter(kind) == f"lecturegen.{kind}.dlt.v1"


def test_every_topic_name_takes_the_namespace_as_a_prefix() -> None:
    ns = "t1."

    assert topics.requests(MediaKind.VIDEO, ns) == "t1.lecturegen.video.requests.v1"
    assert topics.retry_tier(MediaKind.VIDEO, 300_000, ns) == "t1.lecturegen.video.retry.300s.v1"
    assert topics.dead_letter(MediaKind.VIDEO, ns) == "t1.lecturegen.video.dlt.v1"
    assert topics.events(ns) == "t1.lecturegen.events.v1"


@pytest.mark.parametrize(
    ("delay_ms", "label"),
    [(5_000, "5s"), (300_000, "300s"), (200, "200ms"), (1_600, "1600ms"), (1, "1ms")],
)
def test_a_tier_is_labelled_in_whole_seconds_where_it_can_be(delay_ms: int, label: str) -> None:
    assert topics.tier_label(delay_ms) == label


def test_the_default_policy_gives_one_retry_topic_per_tier() -> None:
    tiers = topics.retry_tiers(MediaKind.IMAGE, RetryPolicy().tiers_ms, "ns.")

    assert tiers == {
        5_000: "ns.lecturegen.image.retry.5s.v1",
        10_000: "ns.lecturegen.image.retry.10s.v1",
        20_000: "ns.lecturegen.image.retry.20s.v1",
        40_000: "ns.lecturegen.image.retry.40s.v1",
        80_000: "ns.lecturegen.image.retry.80s.v1",
        160_000: "ns.lecturegen.image.retry.160s.v1",
        300_000: "ns.lecturegen.image.retry.300s.v1",
    }


def test_a_scaled_down_policy_gives_retry_topics_named_in_milliseconds() -> None:
    tiers = topics.retry_tiers(MediaKind.MUSIC, RetryPolicy(base_delay_s=0.2).tiers_ms)

    assert [tiers[t] for t in (200, 400, 800)] == [
        "lecturegen.music.retry.200ms.v1",
        "lecturegen.music.retry.400ms.v1",
        "lecturegen.music.retry.800ms.v1",
    ]


def test_no_two_media_or_tiers_share_a_topic() -> None:
    names = [
        name
        for kind in KINDS
        for name in (
            topics.requests(kind),
            topics.dead_letter(kind),
            *topics.retry_tiers(kind, RetryPolicy(base_delay_s=0.2).tiers_ms).values(),
        )
    ]

    assert len(names) == len(set(names))
    assert topics.events() not in names
