"""Outputs as `data:` URIs or URLs, shaped as a list or a single string like the real model."""

from __future__ import annotations

import pytest

from replicate_sim.faults import OutputStyle
from replicate_sim.files import FileStore
from replicate_sim.media import Media
from replicate_sim.models import ModelTable
from replicate_sim.outputs import OutputPublisher
from replicate_sim.routes.predictions import wait_preference
from replicate_sim.settings import OutputMode, Settings

SMALL = Media(b"x" * 10, "image/png", "png")
LARGE = Media(b"y" * (256 * 1024 + 1), "audio/wav", "wav")
BASE = "http://127.0.0.1:1"
FLUX = ModelTable().by_ref("black-forest-labs", "flux-schnell")
VEO = ModelTable().by_ref("google", "veo-3")


def publish(mode: OutputMode, media: Media, style: OutputStyle = OutputStyle.OWN) -> object:
    assert VEO is not None
    publisher = OutputPublisher(Settings(output_mode=mode), FileStore())
    return publisher.publish(VEO, (media,), style, BASE)


def test_auto_mode_inlines_small_files_and_links_large_ones() -> None:
    assert str(publish(OutputMode.AUTO, SMALL)).startswith("data:image/png;base64,")
    assert str(publish(OutputMode.AUTO, LARGE)).startswith(f"{BASE}/files/")


def test_data_and_url_modes_apply_whatever_the_size() -> None:
    assert str(publish(OutputMode.DATA, LARGE)).startswith("data:audio/wav;base64,")
    assert str(publish(OutputMode.URL, SMALL)) == f"{BASE}/files/{FileStore().put(SMALL)}"


def test_foreign_output_is_a_url_on_another_host_whatever_the_mode() -> None:
    assert str(publish(OutputMode.DATA, SMALL, OutputStyle.FOREIGN)).startswith(
        "https://evil.example.com/files/"
    )


def test_list_models_answer_a_list_and_empty_output_is_an_empty_list() -> None:
    assert FLUX is not None
    publisher = OutputPublisher(Settings(), FileStore())
    assert len(publisher.publish(FLUX, (SMALL,), OutputStyle.OWN, BASE)) == 1
    assert publisher.publish(FLUX, (SMALL,), OutputStyle.EMPTY, BASE) == []
    assert publish(OutputMode.AUTO, SMALL, OutputStyle.EMPTY) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("wait", 60),
        ("wait=5", 5),
        ("wait=0", 1),
        ("wait=600", 60),
        ("respond-async, wait=10", 10),
        ("wait=soon", None),
        ("handling=lenient", None),
    ],
)
def test_prefer_wait_is_read_as_replicate_reads_it(header: str | None, seconds: int | None) -> None:
    assert wait_preference(header) == seconds
