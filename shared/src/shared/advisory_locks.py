"""Every PostgreSQL advisory lock key lecturegen takes, in one place so no two collide.

All are single `bigint` keys of one number range; the comment of each says who holds it,
how (transaction- or session-scoped, shared or exclusive) and what it keeps apart.
"""

from __future__ import annotations

MIGRATION = 7_301_042_001
"""Held (transaction-scoped, exclusive) while any service migrates its schema
(`shared.migrations`) and while the projector creates a generation: two processes starting
together never race, whichever service they belong to."""

PROJECTION_SWITCH = 7_301_042_002
"""Every live projector batch holds it shared (transaction-scoped); a rebuild takes it
exclusively to verify a new generation and switch the read views to it."""

PROJECTION_REBUILD = 7_301_042_003
"""Held (session-scoped) by a running rebuild: one rebuild at a time."""

PROJECTION_FEED_INDEXES = 7_301_042_004
"""Held (transaction-scoped, exclusive) while a rebuild's replayer adds the feed's
constraints back to the generation it replays into: its replay processes take turns."""
