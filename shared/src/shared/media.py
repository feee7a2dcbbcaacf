"""The kinds of media a lecture asks for, and the timeline track each one lands on."""

from __future__ import annotations

from enum import StrEnum


class MediaKind(StrEnum):
    """One kind of generated media; also the `<media>` part of topic names."""

    IMAGE = "image"
    NARRATION = "narration"
    VIDEO = "video"
    MUSIC = "music"

    @property
    def track(self) -> str:
        """The timeline track this kind of media plays on (images play on `visual`)."""
        return "visual" if self is MediaKind.IMAGE else self.value

    @property
    def is_timed(self) -> bool:
        """Whether the media has a playing time of its own (audio and video)."""
        return self is not MediaKind.IMAGE
