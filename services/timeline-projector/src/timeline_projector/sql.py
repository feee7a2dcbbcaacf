"""Names in the projector's SQL: the generation schemas and a rebuild's session settings.

Shared names live in `shared`: the read model's schema, tables and channels in
`shared.read_model`, the lock keys in `shared.advisory_locks`, the migration ledger (whose
schema also holds the generation bookkeeping) in `shared.migrations`.
"""

from __future__ import annotations

from shared.migrations import LEDGER_SCHEMA

META_SCHEMA = LEDGER_SCHEMA
"""Bookkeeping: the migration ledger, `projection_generations`, `current_generation`."""
GENERATION_PREFIX = "lecturegen_g"


def generation_schema(number: int) -> str:
    """The schema that holds projection generation `number`."""
    return f"{GENERATION_PREFIX}{number}"


NO_SYNC = {"synchronous_commit": "off"}
"""Session settings of the connections a rebuild writes a new generation with: a commit does
not wait for its WAL to reach the disk. Nothing reads that generation before the rebuild's
own switch commits, which comes later in the WAL, so a crash loses a part the rebuild would
redo anyway, never a part a reader saw."""
