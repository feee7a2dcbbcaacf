"""A small Server-Sent Events reader (the subset the API sends: event, id, data, comments)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SseMessage:
    event: str
    data: str
    id: str | None = None


@dataclass(slots=True)
class SseParser:
    """Feed it lines without their line ending; it returns a message at each blank line."""

    last_event_id: str | None = None
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _id: str | None = None

    def feed(self, line: str) -> SseMessage | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, e.g. the heartbeat
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SseMessage | None:
        if self._id is not None:
            self.last_event_id = self._id
        if not self._data:
            self._event, self._id = "", None
            return None
        message = SseMessage(self._event or "message", "\n".join(self._data), self._id)
        self._event, self._data, self._id = "", [], None
        return message
