"""How a worker writes records: its events, its retries to a tier, its dead letters. Pure: each
method returns the records to produce (`Outgoing`) and imports no Kafka client; the turn
sends them, waits for the broker's acknowledgement, then its offset is committed.

Which records an attempt's outcome writes is the outcome's to say (`shared.worker.outcomes`);
this module only knows how each kind of record is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared import headers as h
from shared import topics
from shared.envelope import encode_new
from shared.errors import GenerationError
from shared.events import AssetAttemptStarted, GenerateAsset, Payload
from shared.kafka.records import Outgoing, Record, with_headers
from shared.media import MediaKind
from shared.retry import Retry


@dataclass(frozen=True, slots=True)
class Writer:
    """The records of one medium's worker (in one topic namespace)."""

    kind: MediaKind
    namespace: str = ""
    source: str = field(init=False)
    """The CloudEvents `source` of the worker's events."""
    events_topic: str = field(init=False)

    def __post_init__(self) -> None:
        # made once: every event of every turn names them
        object.__setattr__(self, "source", f"lecturegen/{self.kind.value}-worker")
        object.__setattr__(self, "events_topic", topics.events(self.namespace))

    @property
    def dead_letter_topic(self) -> str:
        return topics.dead_letter(self.kind, self.namespace)

    def event(self, command: GenerateAsset, payload: Payload, now: datetime) -> Outgoing:
        """An event about `command`'s asset on the event log, keyed by its lecture."""
        value, hdrs = encode_new(
            payload, self.source, correlation_id=command.correlation_id, now=now
        )
        return Outgoing(self.events_topic, command.lecture_id.encode(), value, hdrs)

    def attempt_started(self, command: GenerateAsset, attempt: int, now: datetime) -> Outgoing:
        """`asset.attempt-started`, written before the provider is called."""
        payload = AssetAttemptStarted(**asset_fields(command), attempt=attempt, started_at=now)
        return self.event(command, payload, now)

    def retry(
        self,
        record: Record,
        command: GenerateAsset,
        next_attempt: int,
        decision: Retry,
        error: GenerationError,
        prediction_id: str | None,
        waiting_since: datetime | None = None,
    ) -> Outgoing:
        """The request again, on the tier `decision` chose, for attempt `next_attempt`."""
        updates = {
            h.ATTEMPT: str(next_attempt),
            h.DUE_AT: decision.due_at.isoformat(),
            h.TIER_MS: str(decision.tier_ms),
            h.ERROR_CODE: error.code.value,
            h.ERROR_MESSAGE: error.message[:2000],
            h.CORRELATION_ID: command.correlation_id,
            h.PREDICTION_ID: prediction_id,
            h.WAITING_SINCE: None if waiting_since is None else waiting_since.isoformat(),
            **record.provenance(),
        }
        return Outgoing(
            topic=topics.retry_tier(self.kind, decision.tier_ms, self.namespace),
            key=command.asset_id.encode(),
            value=record.value or b"",
            headers=with_headers(record.headers, updates),
        )

    def dead_letter(self, record: Record, reason: str, error: GenerationError) -> Outgoing:
        """A copy of the request on the dead-letter topic: why it is there (`exhausted`,
        `failed`), the last error, and where it came from."""
        return self._dead_letter(
            record,
            {
                h.DLT_REASON: reason,
                h.ERROR_CODE: error.code.value,
                h.ERROR_MESSAGE: error.message[:2000],
            },
        )

    def poison(self, record: Record, reason: str) -> list[Outgoing]:
        """A record that cannot be a request for this worker: a copy to the dead-letter topic."""
        return [self._dead_letter(record, {h.DLT_REASON: "poison", h.ERROR_MESSAGE: reason[:2000]})]

    def hop(self, record: Record, tier_ms: int) -> list[Outgoing]:
        """A retry whose due time lies beyond its tier: the same record, once more through
        `tier_ms` (its `DUE_AT`, attempt and provenance stay as they are)."""
        return [
            Outgoing(
                topic=topics.retry_tier(self.kind, tier_ms, self.namespace),
                key=record.key or b"",
                value=record.value or b"",
                headers=with_headers(record.headers, {h.TIER_MS: str(tier_ms)}),
            )
        ]

    def _dead_letter(self, record: Record, updates: dict[str, str | None]) -> Outgoing:
        return Outgoing(
            topic=self.dead_letter_topic,
            key=record.key or b"",
            value=record.value or b"",
            headers=with_headers(record.headers, {**updates, **record.provenance()}),
        )


def asset_fields(command: GenerateAsset) -> dict[str, object]:
    """The fields every event about `command`'s asset carries."""
    return {
        "lecture_id": command.lecture_id,
        "asset_id": command.asset_id,
        "kind": command.kind,
        "segment_id": command.segment_id,
        "prompt_version": command.prompt_version,
        "correlation_id": command.correlation_id,
    }
