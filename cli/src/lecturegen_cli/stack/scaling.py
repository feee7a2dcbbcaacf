"""`up --scale NAME=N`: how many replicas of a component a run starts, and what each one is
called. Pure.

Only a component that shares its work through a Kafka consumer group scales here (the media
workers, the dispatcher, the projector): its replicas join one group and split the partitions.
The API and the local provider each own a port that clients are given, so a second copy would
only be a second server nobody talks to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lecturegen_cli.stack.components import Component


class ScaleError(ValueError):
    """A `--scale` value that cannot be followed; the message says why and what can be."""


def parse_scale(values: Iterable[str], components: Iterable[Component]) -> dict[str, int]:
    """`["image-worker=3", ...]` as `{"image-worker": 3}`, checked against `components`."""
    by_name = {c.name: c for c in components}
    scalable = sorted(name for name, c in by_name.items() if c.consumes is not None)
    counts: dict[str, int] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        name = name.strip()
        if not sep or not raw.strip().isdigit():
            raise ScaleError(f"--scale {value!r}: expected NAME=COUNT, e.g. image-worker=3")
        count = int(raw)
        if name not in by_name:
            raise ScaleError(
                f"--scale {value!r}: there is no component {name!r}; scalable: {_list(scalable)}"
            )
        if by_name[name].consumes is None:
            raise ScaleError(
                f"--scale {value!r}: {name} does not scale by consumer group, so a second copy "
                f"would share no work; scalable: {_list(scalable)}"
            )
        if count < 1:
            raise ScaleError(f"--scale {value!r}: at least one replica runs; use 1 or more")
        counts[name] = count
    return counts


def replica_names(component: Component, scale: Mapping[str, int]) -> list[str]:
    """The process names of a component's replicas: its own name, then `<name>-2`, ..."""
    count = scale.get(component.name, 1)
    return [component.name, *(f"{component.name}-{i}" for i in range(2, count + 1))]


def _list(names: list[str]) -> str:
    return ", ".join(names)
