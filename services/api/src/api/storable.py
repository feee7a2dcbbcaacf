"""Text every later stage can store and carry: checked at the door, so nothing accepted is
lost downstream.

PostgreSQL cannot store U+0000 in `text` or `jsonb`; a lone surrogate (U+D800..U+DFFF) has
no UTF-8 encoding, so it cannot reach Kafka; other C0 control characters are no part of a
prompt, and each costs six bytes in the event's JSON, which would let a lecture within the
documented character limits outgrow the event log's message size (decision 0012). Tab, line
feed and carriage return are text and stay.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def refusal(value: Any) -> str | None:
    """Why `value` (a string, or JSON-like data holding strings) cannot be taken; None if it
    can. Names the first refused character and where it is."""
    return _walk(value, "")


def _walk(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return _text_refusal(value, where)
    if isinstance(value, Mapping):
        for key, item in value.items():
            reason = _walk(key, f"{where}key {key!r}: ") or _walk(item, f"{where}{key}: ")
            if reason:
                return reason
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            reason = _walk(item, f"{where}{index}: ")
            if reason:
                return reason
    return None


def _text_refusal(text: str, where: str) -> str | None:
    found = _REFUSED.search(text)
    if found is None:
        return None
    char = found.group()
    what = "a NUL character" if char == "\x00" else f"the character U+{ord(char):04X}"
    return (
        f"{where}contains {what} at position {found.start()}, which cannot be stored; "
        "control characters other than tab and line breaks, and unpaired surrogates, are "
        "not accepted"
    )
