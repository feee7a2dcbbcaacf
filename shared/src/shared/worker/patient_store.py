"""A `VersionStore` that waits out a database outage instead of failing the turn (decision 0004).

A turn that failed would stop the worker, and the record would be redelivered and its
provider call made again: paid twice. Waiting keeps the turn, with the prediction it created,
alive in this process until the database is back.

Every step may be repeated safely, because each is a pure rule applied to the row as read
(`shared.worker.versions`): a step whose answer was lost with the connection finds its own
write on the next try and changes nothing (a claim finds itself the owner, a settle finds the
row settled, a confirm finds nothing pending).
"""

from __future__ import annotations

from shared.outages import Outage
from shared.postgres import patiently
from shared.worker.versions import Claim, Claimed, Settlement, VersionStore


class PatientVersionStore:
    """`store`, with every step tried again for as long as the database is unreachable."""

    def __init__(self, store: VersionStore, watch: Outage | None = None) -> None:
        self._store = store
        self._watch = watch

    async def claim(self, claim: Claim) -> Claimed:
        return await patiently(lambda: self._store.claim(claim), watch=self._watch)

    async def remember(self, claim: Claim, prediction_id: str) -> None:
        await patiently(lambda: self._store.remember(claim, prediction_id), watch=self._watch)

    async def settle(self, claim: Claim, result: Settlement, unsent: str) -> None:
        await patiently(lambda: self._store.settle(claim, result, unsent), watch=self._watch)

    async def confirm(self, claim: Claim) -> None:
        await patiently(lambda: self._store.confirm(claim), watch=self._watch)
