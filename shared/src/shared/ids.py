"""Identifiers: time-ordered event ids and ids derived from other ids."""

from __future__ import annotations

import os
import time
import uuid

_NAMESPACE = uuid.UUID("6b1c3f0e-5d0a-4a8e-9a57-3f2a1f6a9c11")


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & (2**48 - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64 & (0xFFF << 64)  # rand_a (12 bits)
    value |= 0b10 << 62  # variant
    value |= rand & (2**62 - 1)  # rand_b
    return uuid.UUID(int=value)


def new_id() -> str:
    """A new, unique, time-ordered id as a string."""
    return str(uuid7())


def derived_id(*parts: str) -> str:
    """A stable id derived from `parts`: the same parts always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))
