import pytest

from shared.media import MediaKind


@pytest.mark.parametrize(
    ("kind", "track"),
    [
        (MediaKind.IMAGE, "visual"),
        (MediaKind.VIDEO, "video"),
        (MediaKind.NARRATION, "narration"),
        (MediaKind.MUSIC, "music"),
    ],
)
def test_each_kind_plays_on_its_timeline_track(kind: MediaKind, track: str) -> None:
    assert kind.track == track


def test_only_images_have_no_playing_time_of_their_own() -> None:
    assert [k for k in MediaKind if not k.is_timed] == [MediaKind.IMAGE]


def test_the_kinds_are_those_of_the_design() -> None:
    assert [k.value for k in MediaKind] == ["image", "narration", "video", "music"]
