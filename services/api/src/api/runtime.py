"""What the API holds while it runs: built in the lifespan, read by the dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from api.broadcaster import Broadcaster
from api.claims import Claims
from api.event_log import EventLogWriter
from api.queries import ReadModel
from shared.health.board import CircuitBoard
from shared.ports import BlobStore


@dataclass(frozen=True, slots=True)
class Runtime:
    """The open connections of one API process."""

    reads: ReadModel
    claims: Claims
    events: EventLogWriter
    broadcaster: Broadcaster
    blobs: BlobStore
    circuits: CircuitBoard
