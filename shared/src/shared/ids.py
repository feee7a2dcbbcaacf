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
        return uuid.UUID(int=self.next_value(now_ms, rand))

    def next_value(self, now_ms: int, rand: int) -> int:
        """`next`, as the id's integer value."""
        with self._lock:
            value = compose_uuid7(now_ms, rand)
            if value <= self._last:
                if self._last & _RAND_B != _RAND_B:
                    value = self._last + 1
                else:  # the counter is full: move on to the next millisecond
                    value = compose_uuid7((self._last >> 80) + 1, 0)
            self._last = value
        return value


class _Randomness:
    """Random bits from the operating system, read a few kilobytes at a time (a read per id
    was a good part of what an id cost)."""

    _CHUNK = 4096

    def __init__(self) -> None:
        self._buffer = b""
        self._at = 0
        self._lock = threading.Lock()

    def bits80(self) -> int:
        with self._lock:
            at = self._at
            if at + 10 > len(self._buffer):
                self._buffer, at = os.urandom(self._CHUNK), 0
            self._at = at + 10
            return int.from_bytes(self._buffer[at : at + 10], "big")


_process_ids = MonotonicUuid7()
_randomness = _Randomness()


def _start_afresh() -> None:
    """A forked child neither hands out the random bits its parent had read ahead nor
    counts up from its parent's last id: both would give the ids the parent makes next."""
    global _process_ids, _randomness
    _process_ids, _randomness = MonotonicUuid7(), _Randomness()


os.register_at_fork(after_in_child=_start_afresh)


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness.

    Without `now_ms`, the ids one process makes strictly increase (`MonotonicUuid7`);
    with it, the id carries exactly that time.
    """
    rand = _randomness.bits80()
    if now_ms is not None:
        return uuid.UUID(int=compose_uuid7(now_ms, rand))
    return _process_ids.next(int(time.time() * 1000), rand)


def new_id() -> str:
    """A new, unique, time-ordered id as a string (`str(uuid7())`, made without the
    `uuid.UUID` in between)."""
    value = _process_ids.next_value(int(time.time() * 1000), _randomness.bits80())
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def derived_id(*parts: str) -> str:
    """A stable id derived from `parts`: the same parts always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))
