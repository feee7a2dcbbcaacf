"""Outputs as `data:` URIs or URLs, shaped as a list or a single string like the real model."""

from __future__ import annotations

import re

import pytest

from replicate_sim.deliveries import Deliveries
from replicate_sim.faults import OutputStyle
from replicate_sim.files import FileStore
from replicate_sim.media import Media
from replicate_sim.models import ModelSpec, ModelTable
from replicate_sim.outputs import OutputShaper
from replicate_sim.routes.predictions import wait_preference
from replicate_sim.settings import OutputMode, SimSettings

SMALL = Media(b"x" * 10, "image/png", "png")
LARGE = Media(b"y" * (256 * 1024 + 1), "audio/wav", "wav")
BASE = "http://127.0.0.1:1"


def model(owner: str, name: str) -> ModelSpec:
    spec = ModelTable().by_ref(owner, name)
    assert spec is not None, f"{owner}/{name} is not in the model table"
    return spec


FLUX = model("black-forest-labs", "flux-schnell")
VEO = model("google", "veo-3")


def shape(mode: OutputMode, media: Media, style: OutputStyle = OutputStyle.OWN) -> object:
    shaper = OutputShaper(SimSettings(output_mode=mode), FileStore(), Deliveries())
    return shaper.shape(VEO, (media,), style, "p1", BASE)


DELIVERED = re.compile(rf"^{re.escape(BASE)}/delivery/xezq/[A-Za-z0-9]{{45}}/out-0\.(png|wav)$")


def test_auto_mode_inlines_small_files_and_links_large_ones() -> None:
    assert str(shape(OutputMode.AUTO, SMALL)).startswith("data:image/png;base64,")
    assert DELIVERED.match(str(shape(OutputMode.AUTO, LARGE)))


def test_data_and_url_modes_apply_whatever_the_size() -> None:
    assert str(shape(OutputMode.DATA, LARGE)).startswith("data:audio/wav;base64,")
    assert DELIVERED.match(str(shape(OutputMode.URL, SMALL)))


def test_outputs_are_urls_on_the_delivery_path_by_default() -> None:
    # the shape of a real output: https://replicate.delivery/pbxt/<token>/out-0.png (the
    # `replicate` client's cassette tests/cassettes/predictions-get.yaml)
    assert SimSettings().output_mode is OutputMode.URL
    assert DELIVERED.match(str(shape(SimSettings().output_mode, SMALL)))


def test_each_prediction_gets_its_own_folder_even_for_the_same_bytes() -> None:
    shaper = OutputShaper(SimSettings(), FileStore(), Deliveries())
    first = shaper.shape(VEO, (SMALL,), OutputStyle.OWN, "p1", BASE)
    second = shaper.shape(VEO, (SMALL,), OutputStyle.OWN, "p2", BASE)
    assert first != second


def test_a_delivery_base_url_moves_the_files_to_another_host() -> None:
    settings = SimSettings(delivery_base_url="http://files.test:9001/")
    shaper = OutputShaper(settings, FileStore(), Deliveries())
    url = shaper.shape(VEO, (SMALL,), OutputStyle.OWN, "p1", BASE)
    assert url.startswith("http://files.test:9001/delivery/xezq/")


def test_foreign_output_is_a_url_on_another_host_whatever_the_mode() -> None:
    assert str(shape(OutputMode.DATA, SMALL, OutputStyle.FOREIGN)).startswith(
        "https://evil.example.com/files/"
    )


def test_list_models_answer_a_list_and_empty_output_is_an_empty_list() -> None:
    shaper = OutputShaper(SimSettings(), FileStore(), Deliveries())
    outputs = shaper.shape(FLUX, (SMALL, SMALL), OutputStyle.OWN, "p1", BASE)
    assert [url.rsplit("/", 1)[1] for url in outputs] == ["out-0.png", "out-1.png"]
    assert shaper.shape(FLUX, (SMALL,), OutputStyle.EMPTY, "p1", BASE) == []
    assert shape(OutputMode.AUTO, SMALL, OutputStyle.EMPTY) is None


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
