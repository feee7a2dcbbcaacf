"""The worker's idempotency record per asset: which version and attempt is live, which
version ended, and the outcome records not yet confirmed as sent (DESIGN §6, decision 0003).

The rule is pure (`judge`, `remember`, `settle`, `confirm`); stores only load and save one
row. The order of a turn is: `claim` → provider call, whose prediction id is saved as soon as
the provider has created it (`remember`) → `settle` (the outcome records are saved with the
new state) → send and await the acks → `confirm` → commit the offset. A crash anywhere in
between is absorbed on redelivery: see `Verdict`, and `Claimed.resume_prediction_id` for a
crash during the call.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.media import MediaKind
from shared.status import AssetStatus


@dataclass(frozen=True, slots=True)
class Claim:
    """A record asking to run attempt `attempt` of version `prompt_version` of an asset."""

    kind: MediaKind
    asset_id: str
    prompt_version: int
    attempt: int
    position: str
    """`topic:partition:offset` of the record: a redelivery has the same one, a duplicate not."""
    carried_prediction_id: str | None = None
    """The prediction a retry record hands on from the failed attempt before it."""


@dataclass(frozen=True, slots=True)
class Inflight:
    """A prediction created by attempt `attempt` of version `prompt_version`, not yet settled."""

    prompt_version: int
    attempt: int
    prediction_id: str

    def of(self, claim: Claim) -> bool:
        """Whether this prediction belongs to the attempt `claim` runs."""
        return (self.prompt_version, self.attempt) == (claim.prompt_version, claim.attempt)


@dataclass(frozen=True, slots=True)
class VersionRow:
    """What the worker remembers about one asset."""

    latest_requested_version: int
    attempt: int
    """The live attempt of the latest version: lower attempts are stale."""
    claimed_by: str | None
    """The record that owns the live attempt; None until a retry record claims it."""
    terminal_version: int = 0
    outcome: AssetStatus | None = None
    pending_position: str | None = None
    """The record whose outcome records (`unsent`) are saved but not confirmed sent."""
    unsent: str | None = None
    """Those records (`shared.kafka.records.dump_records`), to send again after a crash."""
    inflight: Inflight | None = None
    """The prediction the live attempt created, saved before waiting for it."""


class Verdict(StrEnum):
    """What to do with a claimed record."""

    PROCEED = "proceed"
    """Call the provider: create a prediction, or poll the one to resume."""
    RESEND = "resend"
    """This record's outcome was saved but maybe not sent (a crash): send the saved records
    again instead of calling the provider again."""
    SUPERSEDED = "superseded"
    """A newer prompt version was requested: drop it."""
    ALREADY_DONE = "already_done"
    """The version already ended; its outcome is on the event log: skip."""
    STALE = "stale"
    """A later attempt of the version is scheduled already: skip."""
    DUPLICATE = "duplicate"
    """Another record (a re-dispatched command) owns this attempt: skip."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A store's answer to a claim."""

    verdict: Verdict
    unsent: str | None = None
    """With `RESEND`: the saved outcome records to send again."""
    resume_prediction_id: str | None = None
    """With `PROCEED`: the prediction to poll instead of creating one (see `to_resume`)."""


def to_resume(row: VersionRow | None, claim: Claim) -> str | None:
    """Resume or create: the prediction the attempt `claim` runs should poll, or None to
    create one. First the prediction this very attempt created before its process died (saved
    in the row), then the one the failed attempt before it handed on (carried by the retry
    record). Replicate has no idempotency key, so this is the only guard against paying twice."""
    if row is not None and row.inflight is not None and row.inflight.of(claim):
        return row.inflight.prediction_id
    return claim.carried_prediction_id


def answer(row: VersionRow | None, claim: Claim) -> tuple[Claimed, VersionRow | None]:
    """`judge`, with what the caller needs to act on the verdict."""
    verdict, new = judge(row, claim)
    if verdict is Verdict.RESEND and row is not None:
        return Claimed(verdict, unsent=row.unsent), new
    if verdict is Verdict.PROCEED:
        return Claimed(verdict, resume_prediction_id=to_resume(row, claim)), new
    return Claimed(verdict), new


def judge(row: VersionRow | None, claim: Claim) -> tuple[Verdict, VersionRow | None]:
    """The verdict for `claim` and the row to save (None: leave the row as it is)."""
    if row is None:
        return Verdict.PROCEED, VersionRow(claim.prompt_version, claim.attempt, claim.position)
    if row.unsent is not None and row.pending_position == claim.position:
        return Verdict.RESEND, None
    if claim.prompt_version < row.latest_requested_version:
        return Verdict.SUPERSEDED, None
    if claim.prompt_version <= row.terminal_version:
        return Verdict.ALREADY_DONE, None
    owned = dataclasses.replace(
        row,
        latest_requested_version=claim.prompt_version,
        attempt=claim.attempt,
        claimed_by=claim.position,
    )
    if claim.prompt_version > row.latest_requested_version or claim.attempt > row.attempt:
        return Verdict.PROCEED, owned
    if claim.attempt < row.attempt:
        return Verdict.STALE, None
    if row.claimed_by in (None, claim.position):
        return Verdict.PROCEED, owned
    return Verdict.DUPLICATE, None


def remember(row: VersionRow | None, claim: Claim, prediction_id: str) -> VersionRow | None:
    """The row once `claim`'s attempt has created `prediction_id` (None: unchanged, because
    the attempt is no longer the live one: a newer version or attempt took over, or it ended)."""
    live = (
        row is not None
        and row.latest_requested_version == claim.prompt_version
        and row.attempt == claim.attempt
        and row.terminal_version < claim.prompt_version
    )
    if row is None or not live:
        return None
    inflight = Inflight(claim.prompt_version, claim.attempt, prediction_id)
    return dataclasses.replace(row, inflight=inflight)


@dataclass(frozen=True, slots=True)
class Ended:
    """The version reached a terminal status."""

    status: AssetStatus


@dataclass(frozen=True, slots=True)
class Scheduled:
    """The next attempt was written to a retry tier."""


Settlement = Ended | Scheduled


def settle(row: VersionRow, claim: Claim, result: Settlement, unsent: str) -> VersionRow:
    """The row after `claim`'s attempt ended with `result`, whose records are `unsent`."""
    inflight = None if row.inflight is not None and row.inflight.of(claim) else row.inflight
    saved = dataclasses.replace(
        row, pending_position=claim.position, unsent=unsent, inflight=inflight
    )
    if isinstance(result, Ended):
        if claim.prompt_version < saved.terminal_version:
            return saved
        return dataclasses.replace(
            saved, terminal_version=claim.prompt_version, outcome=result.status
        )
    owns = (
        row.latest_requested_version == claim.prompt_version
        and row.attempt == claim.attempt
        and row.claimed_by == claim.position
    )
    if owns:  # the retry record will claim the next attempt when it is consumed
        return dataclasses.replace(saved, attempt=claim.attempt + 1, claimed_by=None)
    return saved


def confirm(row: VersionRow, position: str) -> VersionRow | None:
    """The row once the records saved for `position` are acknowledged (None: unchanged)."""
    if row.pending_position != position:
        return None
    return dataclasses.replace(row, pending_position=None, unsent=None)


class VersionStore(Protocol):
    """Durable idempotency records, one row per (kind, asset_id)."""

    async def claim(self, claim: Claim) -> Claimed:
        """Judge `claim` and save the result."""
        ...

    async def remember(self, claim: Claim, prediction_id: str) -> None:
        """Save the prediction `claim`'s attempt created, before waiting for it to finish."""
        ...

    async def settle(self, claim: Claim, result: Settlement, unsent: str) -> None:
        """Save the attempt's end and its outcome records, before they are sent."""
        ...

    async def confirm(self, claim: Claim) -> None:
        """The outcome records of `claim` are acknowledged by the broker."""
        ...


class InMemoryVersionStore:
    """`VersionStore` in a dict: for unit tests and benchmarks, not durable."""

    def __init__(self) -> None:
        self.rows: dict[tuple[MediaKind, str], VersionRow] = {}

    async def claim(self, claim: Claim) -> Claimed:
        key = (claim.kind, claim.asset_id)
        claimed, new = answer(self.rows.get(key), claim)
        if new is not None:
            self.rows[key] = new
        return claimed

    async def remember(self, claim: Claim, prediction_id: str) -> None:
        key = (claim.kind, claim.asset_id)
        new = remember(self.rows.get(key), claim, prediction_id)
        if new is not None:
            self.rows[key] = new

    async def settle(self, claim: Claim, result: Settlement, unsent: str) -> None:
        key = (claim.kind, claim.asset_id)
        self.rows[key] = settle(self.rows[key], claim, result, unsent)

    async def confirm(self, claim: Claim) -> None:
        key = (claim.kind, claim.asset_id)
        new = confirm(self.rows[key], claim.position)
        if new is not None:
            self.rows[key] = new
