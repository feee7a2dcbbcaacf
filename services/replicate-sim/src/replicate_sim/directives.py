"""Fault directives: `[[sim:...]]` markers written into a prompt or narration text.

Parsing is pure: it reads the input's string values and says what was asked for; `faults` decides
what that means for one create call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

DIRECTIVE = re.compile(r"\[\[\s*sim:([^\]]*?)\s*\]\]", re.IGNORECASE)
DEFAULT_RATE_LIMIT_AFTER_S = 30
"""The reset hint of a rate-limit directive without `after=`, as in Replicate's own sample."""


@dataclass(frozen=True)
class RateLimit:
    """`[[sim:rate-limit xN after=S]]`: the first `times` creates answer 429 with hint `after_s`."""

    times: int
    after_s: int


@dataclass(frozen=True)
class ReadFaults:
    """`[[sim:read-error xN status=S]]` / `[[sim:read-drop xN]]`: the first reads of each
    prediction of this input fail: `errors` answer HTTP `status`, then `drops` cut the
    connection in the middle of the answer."""

    errors: int = 0
    status: int = 502
    drops: int = 0


@dataclass(frozen=True)
class Directives:
    """Everything the `[[sim:...]]` markers of one input ask for; the default asks for nothing."""

    sensitive: bool = False
    invalid_input_field: str | None = None
    """The input field (`input.prompt`) that carries `[[sim:invalid-input]]`, if any does."""
    transient: int = 0
    rate_limit: RateLimit | None = None
    model_error: bool = False
    latency_s: float | None = None
    hang: int = 0
    foreign_output: bool = False
    empty_output: bool = False
    aborted: bool = False
    expire_output: int = 0
    """`[[sim:expire-output xN]]`: the first N predictions' outputs expire as they finish."""
    insufficient_credit: bool = False
    forbidden: bool = False
    reads: ReadFaults = field(default_factory=ReadFaults)
    unknown: tuple[str, ...] = field(default=())
    """Markers that could not be understood; they are ignored (and logged by the caller)."""


def parse_directives(payload: Mapping[str, Any]) -> Directives:
    """Read every `[[sim:...]]` marker in the string values of a prediction input."""
    directives = Directives()
    for path, text in _strings(payload, "input"):
        for match in DIRECTIVE.finditer(text):
            directives = _apply(directives, match.group(1), path)
    return directives


def strip_directives(text: str) -> str:
    """The text without its markers: what a model would draw or speak."""
    return " ".join(DIRECTIVE.sub(" ", text).split())


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _apply(directives: Directives, body: str, path: str) -> Directives:
    tokens = body.split() or [""]
    name, _, value = tokens[0].partition("=")
    try:
        return _apply_named(directives, name.lower(), value, _options(tokens[1:]), path)
    except ValueError:
        return replace(directives, unknown=(*directives.unknown, body))


def _apply_named(
    directives: Directives, name: str, value: str, options: dict[str, str], path: str
) -> Directives:
    if name == "latency":
        return replace(directives, latency_s=_seconds(value))
    if value:
        raise ValueError(f"{name} takes no value")
    if name in FLAGS:
        return FLAGS[name](directives)
    if name == "invalid-input":
        return replace(directives, invalid_input_field=directives.invalid_input_field or path)
    if name == "transient":
        return replace(directives, transient=_times(options))
    if name == "hang":
        return replace(directives, hang=_times(options))
    if name == "expire-output":
        return replace(directives, expire_output=_times(options))
    if name == "read-error":
        status = int(options.get("status", "502"))
        if not 500 <= status <= 599:
            raise ValueError("a read error is a 5xx status")
        reads = replace(directives.reads, errors=_times(options), status=status)
        return replace(directives, reads=reads)
    if name == "read-drop":
        return replace(directives, reads=replace(directives.reads, drops=_times(options)))
    if name == "rate-limit":
        after = options.get("after")
        after_s = math.ceil(_seconds(after)) if after else DEFAULT_RATE_LIMIT_AFTER_S
        return replace(directives, rate_limit=RateLimit(_times(options), after_s))
    raise ValueError(f"unknown directive {name!r}")


FLAGS: dict[str, Callable[[Directives], Directives]] = {
    "sensitive": lambda d: replace(d, sensitive=True),
    "model-error": lambda d: replace(d, model_error=True),
    "foreign-output": lambda d: replace(d, foreign_output=True),
    "empty-output": lambda d: replace(d, empty_output=True),
    "aborted": lambda d: replace(d, aborted=True),
    "insufficient-credit": lambda d: replace(d, insufficient_credit=True),
    "forbidden": lambda d: replace(d, forbidden=True),
}


def _options(tokens: list[str]) -> dict[str, str]:
    """`x3 after=5` → `{"x": "3", "after": "5"}`."""
    options: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if sep:
            options[key.lower()] = value
        elif re.fullmatch(r"[xX]\d+", token):
            options["x"] = token[1:]
        else:
            raise ValueError(f"unknown option {token!r}")
    return options


def _times(options: dict[str, str]) -> int:
    times = int(options.get("x", "1"))
    if times < 0:
        raise ValueError("a count cannot be negative")
    return times


def _seconds(text: str) -> float:
    seconds = float(text.removesuffix("s"))
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("seconds must be a finite, non-negative number")
    return seconds
