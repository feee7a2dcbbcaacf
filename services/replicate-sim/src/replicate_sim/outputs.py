"""How rendered files become a prediction's `output`: `data:` URIs or delivery URLs, one or a
list."""

from __future__ import annotations

import base64
from typing import Any

from replicate_sim.deliveries import PATH_PREFIX, Deliveries, file_name
from replicate_sim.faults import OutputStyle
from replicate_sim.files import FileStore
from replicate_sim.media import Media
from replicate_sim.models import ModelSpec
from replicate_sim.settings import OutputMode, SimSettings


class OutputShaper:
    """Chooses inline or URL per file and shapes the output as the model's real one is shaped."""

    def __init__(self, settings: SimSettings, files: FileStore, deliveries: Deliveries) -> None:
        self._settings = settings
        self._files = files
        self._deliveries = deliveries

    def shape(
        self,
        spec: ModelSpec,
        media: tuple[Media, ...],
        style: OutputStyle,
        prediction_id: str,
        base_url: str,
    ) -> Any:
        """The output value: a list for list models (flux-schnell), else a single string."""
        if style is OutputStyle.EMPTY:
            return [] if spec.output_is_list else None
        delivery = self._delivery_base(base_url)
        token = self._deliveries.put(prediction_id, media)
        values = [
            self._value(item, style, f"{delivery}/{token}/{file_name(index, item)}")
            for index, item in enumerate(media)
        ]
        return values if spec.output_is_list else values[0]

    def _delivery_base(self, base_url: str) -> str:
        own = self._settings.delivery_base_url
        return f"{own.rstrip('/')}{PATH_PREFIX}" if own else f"{base_url}{PATH_PREFIX}"

    def _value(self, media: Media, style: OutputStyle, url: str) -> str:
        if style is OutputStyle.FOREIGN:
            return f"{self._settings.foreign_base_url}/files/{self._files.put(media)}"
        if self._inline(media):
            return f"data:{media.content_type};base64,{base64.b64encode(media.data).decode()}"
        return url

    def _inline(self, media: Media) -> bool:
        mode = self._settings.output_mode
        if mode is OutputMode.AUTO:
            return len(media.data) <= self._settings.data_uri_max_bytes
        return mode is OutputMode.DATA
