"""HTTP byte ranges (RFC 9110 §14): which bytes of a stored file a request asks for. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes `start` to `end`, both included (as in `Content-Range`)."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiableError(Exception):
    """The range lies wholly outside the file: answer 416 with `bytes */size`."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range `header` asks for in a file of `size` bytes.

    None means "send the whole file": no header, a header we may ignore (malformed, another
    unit, or several ranges, which RFC 9110 lets a server answer with the full content).
    """
    if header is None:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in specs:
        return None
    match = _SPEC.match(specs)
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiableError
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiableError
    end = size - 1 if last == "" else int(last)
    return ByteRange(start, min(end, size - 1))
