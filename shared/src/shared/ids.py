"""Identifiers: time-ordered event ids and ids derived from other ids."""

from __future__ import annotations

import os
import threading
import time
import uuid

_NAMESPACE = uuid.UUID("6b1c3f0e-5d0a-4a8e-9a57-3f2a1f6a9c11")
_RAND_B = 2**62 - 1


def compose_uuid7(ms: int, rand: int) -> int:
    """The integer value of the UUIDv7 with Unix time `ms` and 74 random bits from `rand`."""
    value = (ms & (2**48 - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 68) & 0xFFF) << 64  # rand_a (12 bits)
    value |= 0b10 << 62  # variant
    value |= rand & _RAND_B  # rand_b
    return value


class MonotonicUuid7:
    """Makes UUIDv7s that strictly increase, even within one millisecond or when the clock
    steps back (RFC 9562 §6.2, method 2): the previous id's random part is counted up
    instead of drawn anew."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now_ms: int, rand: int) -> uuid.UUID:
        """The next id, given the clock and 80 fresh random bits."""
        with self._lock:
            value = compose_uuid7(now_ms, rand)
            if value <= self._last:
                if self._last & _RAND_B != _RAND_B:
                    value = self._last + 1
                else:  # the counter is full: move on to the next millisecond
                    value = compose_uuid7((self._last >> 80) + 1, 0)
            self._last = value
        return uuid.UUID(int=value)


_process_ids = MonotonicUuid7()


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness.

    Without `now_ms`, the ids one process makes strictly increase (`MonotonicUuid7`);
    with it, the id carries exactly that time.
    """
    rand = int.from_bytes(os.urandom(10), "big")
    if now_ms is not None:
        return uuid.UUID(int=compose_uuid7(now_ms, rand))
    return _process_ids.next(int(time.time() * 1000), rand)


def new_id() -> str:
    """A new, unique, time-ordered id as a string."""
    return str(uuid7())


def derived_id(*parts: str) -> str:
    """A stable id derived from `parts`: the same parts always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))
