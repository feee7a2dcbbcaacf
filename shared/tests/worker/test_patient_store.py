"""The patient store waits out an unreachable database and gives up on nothing else."""

from __future__ import annotations

import asyncpg
import pytest

from shared.media import MediaKind
from shared.outages import Outage
from shared.status import AssetStatus
from shared.worker.patient_store import PatientVersionStore
from shared.worker.versions import Claim, Claimed, Ended, InMemoryVersionStore, Settlement, Verdict

CLAIM = Claim(MediaKind.IMAGE, "a1", 1, 1, "requests:0:0")


class FlakyStore(InMemoryVersionStore):
    """Fails its first `failures` calls with `error`, then behaves."""

    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__()
        self.failures = failures
        self.error = error
        self.tries = 0

    def _trip(self) -> None:
        self.tries += 1
        if self.failures:
            self.failures -= 1
            raise self.error

    async def claim(self, claim: Claim) -> Claimed:
        self._trip()
        return await super().claim(claim)

    async def settle(self, claim: Claim, result: Settlement, unsent: str) -> None:
        self._trip()
        await super().settle(claim, result, unsent)


async def test_a_refused_connection_is_tried_again_until_the_database_answers() -> None:
    inner = FlakyStore(3, ConnectionRefusedError(111, "refused"))
    watch = Outage("postgresql", confirm_after_s=0)
    store = PatientVersionStore(inner, watch)

    claimed = await store.claim(CLAIM)
    inner.failures = 2
    inner.error = asyncpg.CannotConnectNowError("the database system is starting up")
    await store.settle(CLAIM, Ended(AssetStatus.GENERATED), "[]")

    assert claimed.verdict is Verdict.PROCEED
    assert inner.tries == 7
    assert inner.rows[(MediaKind.IMAGE, "a1")].terminal_version == 1
    assert not watch.down


async def test_an_error_that_is_not_about_reaching_the_database_is_raised() -> None:
    store = PatientVersionStore(FlakyStore(1, asyncpg.UndefinedTableError("no table")))
    with pytest.raises(asyncpg.UndefinedTableError):
        await store.claim(CLAIM)
