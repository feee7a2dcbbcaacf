"""Asset statuses and the rule for moving between them (DESIGN §2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AssetStatus(StrEnum):
    """Where one asset stands; every asset ends in a state a person can act on."""

    PENDING = "pending"
    RETRYING = "retrying"
    GENERATED = "generated"
    NEEDS_PROMPT_UPDATE = "needs_prompt_update"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        """Whether only a regeneration can move the asset on from here."""
        return self in TERMINAL_STATUSES

    @property
    def missing_reason(self) -> str | None:
        """Why a clip of an asset in this status has no playable media, if it has none."""
        return None if self is AssetStatus.GENERATED else self.value


TERMINAL_STATUSES = frozenset(
    {AssetStatus.GENERATED, AssetStatus.NEEDS_PROMPT_UPDATE, AssetStatus.FAILED}
)

_ALLOWED: dict[AssetStatus, frozenset[AssetStatus]] = {
    AssetStatus.PENDING: frozenset(
        {
            AssetStatus.PENDING,
            AssetStatus.GENERATED,
            AssetStatus.RETRYING,
            AssetStatus.NEEDS_PROMPT_UPDATE,
            AssetStatus.FAILED,
        }
    ),
    AssetStatus.RETRYING: frozenset(
        {
            AssetStatus.PENDING,
            AssetStatus.GENERATED,
            AssetStatus.RETRYING,
            AssetStatus.NEEDS_PROMPT_UPDATE,
            AssetStatus.FAILED,
        }
    ),
    AssetStatus.GENERATED: frozenset(),
    AssetStatus.NEEDS_PROMPT_UPDATE: frozenset(),
    AssetStatus.FAILED: frozenset(),
}

DEFAULT_STATUS = AssetStatus.GENERATED
"""What an asset stored before statuses existed reads as."""


def read_status(raw: str | None) -> AssetStatus:
    """The status of a stored asset; one stored without a status reads as `generated`."""
    return DEFAULT_STATUS if raw is None else AssetStatus(raw)


@dataclass(frozen=True, slots=True)
class VersionedStatus:
    """An asset's current `prompt_version` and its status."""

    prompt_version: int
    status: AssetStatus


def next_status(
    current: VersionedStatus | None, prompt_version: int, status: AssetStatus
) -> VersionedStatus | None:
    """The asset's new state after an event, or None when the event must not change it.

    A newer `prompt_version` always wins and starts fresh; an older one never overwrites
    the current one; within one version only the transitions of DESIGN §2 apply, so a
    terminal status stays put and a late `pending` cannot undo a `generated`.
    """
    if current is None or prompt_version > current.prompt_version:
        return VersionedStatus(prompt_version, status)
    if prompt_version < current.prompt_version:
        return None
    if status in _ALLOWED[current.status]:
        return VersionedStatus(prompt_version, status)
    return None
