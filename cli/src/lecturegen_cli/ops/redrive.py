"""`lecturegen redrive`: regenerate every asset that matches, through the API's regenerate.

Which assets match is read from the projector's views (and, with `--from-dlt`, narrowed to
the assets on the dead-letter topics); each one is then regenerated with
`POST /v1/assets/{id}/regenerate` — the same command path as a person's regenerate — with its
current prompt and model, or `--model` another one. Every call carries an `Idempotency-Key`
made from the asset, the version being redriven and the arguments (`command_key`), so running
the same redrive twice, or again after a crash half-way, makes no extra version
(decision 0013).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.media import MediaKind
from shared.read_model.tables import ASSETS
from shared.status import AssetStatus

REDRIVABLE = (AssetStatus.FAILED, AssetStatus.NEEDS_PROMPT_UPDATE, AssetStatus.GENERATED)
"""Terminal statuses only: an asset in progress is left to finish."""


class RedriveArgumentError(ValueError):
    """The arguments do not describe a redrive that can be done."""


@dataclass(frozen=True, slots=True)
class Selection:
    """What to redrive: the command's arguments, the part of them that names a redrive."""

    status: AssetStatus = AssetStatus.FAILED
    code: str | None = None
    lecture_id: str | None = None
    kind: MediaKind | None = None
    since: datetime | None = None
    until: datetime | None = None
    from_dlt: bool = False
    model: str | None = None

    def __post_init__(self) -> None:
        if self.status not in REDRIVABLE:
            allowed = ", ".join(s.value for s in REDRIVABLE)
            raise RedriveArgumentError(f"--status must be one of {allowed}")
        if self.status is AssetStatus.GENERATED and self.model is None:
            # The same prompt on the same model again only makes a duplicate of what is there.
            raise RedriveArgumentError("--status generated needs --model (a model to move to)")
        if self.since and self.until and self.since >= self.until:
            raise RedriveArgumentError("--since must be before --until")

    def fingerprint(self) -> str:
        """The arguments, canonical: equal for equal redrives, whatever the flag order."""
        fields = {k: v for k, v in asdict(self).items() if v not in (None, False)}
        return json.dumps(fields, sort_keys=True, default=str)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An asset the selection matched, as the views show it."""

    asset_id: str
    lecture_id: str
    kind: str
    status: str
    model: str
    prompt_version: int
    code: str | None
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "updated_at": self.updated_at.isoformat()}


def command_key(asset_id: str, prompt_version: int, selection: Selection) -> str:
    """The idempotency key of redriving `prompt_version` of the asset with these arguments."""
    text = f"{asset_id}\n{prompt_version}\n{selection.fingerprint()}"
    return "redrive-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def request_body(selection: Selection) -> dict[str, Any]:
    """The regenerate body: nothing (keep prompt and model), or the model to move to."""
    return {} if selection.model is None else {"model": selection.model}


def still_wanted(candidate: Candidate, selection: Selection) -> bool:
    """Whether a matched asset needs the redrive: one already generated on the target model
    has had it (so a re-render onto a model is done once)."""
    return not (
        selection.model is not None
        and candidate.model == selection.model
        and candidate.status == AssetStatus.GENERATED
    )


_SELECT = f"""
SELECT asset_id, lecture_id, kind, coalesce(status, 'generated') AS status, model,
       prompt_version, error->>'code' AS code, updated_at
FROM {ASSETS.qualified()}
WHERE coalesce(status, 'generated') = $1
  AND ($2::text IS NULL OR error->>'code' = $2)
  AND ($3::text IS NULL OR lecture_id = $3)
  AND ($4::text IS NULL OR kind = $4)
  AND ($5::timestamptz IS NULL OR updated_at >= $5)
  AND ($6::timestamptz IS NULL OR updated_at < $6)
  AND ($7::text[] IS NULL OR asset_id = ANY($7))
ORDER BY updated_at, asset_id
"""


async def select(
    dsn: str, selection: Selection, only: Iterable[str] | None = None
) -> list[Candidate]:
    """The assets of the views that match; `only` narrows them to these ids (the DLT's)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            _SELECT,
            selection.status.value,
            selection.code,
            selection.lecture_id,
            selection.kind.value if selection.kind else None,
            selection.since,
            selection.until,
            None if only is None else sorted(set(only)),
        )
    finally:
        await conn.close()
    candidates = [Candidate(**dict(row)) for row in rows]
    return [c for c in candidates if still_wanted(c, selection)]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the API answered for one asset."""

    asset_id: str
    result: str
    """`requested` (a new version), `already_requested` (this redrive asked before: same
    version), `pending` (another regeneration is running) or `error`."""
    prompt_version: int | None = None
    detail: str | None = None


def summary(matched: Sequence[Candidate], outcomes: Sequence[Outcome]) -> dict[str, Any]:
    counts = {
        result: sum(1 for o in outcomes if o.result == result)
        for result in ("requested", "already_requested", "pending", "error")
    }
    return {
        "matched": len(matched),
        **counts,
        "assets": [
            {**c.to_json(), **{k: v for k, v in asdict(o).items() if k != "asset_id"}}
            for c, o in zip(matched, outcomes, strict=False)
        ]
        or [c.to_json() for c in matched],
    }
