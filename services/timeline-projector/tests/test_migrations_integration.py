import asyncio
import json
from typing import Any, TypeVar

import asyncpg
import pytest

from shared.read_model.tables import ASSETS, SEGMENTS, Table
from shared.status import AssetStatus
from shared.timeline import TimelineAsset, TimelineSegment, assemble_timeline
from timeline_projector.migrate import load, migrate
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import Projection

pytestmark = pytest.mark.integration

R = TypeVar("R", bound=tuple[Any, ...])


async def _rows(conn: asyncpg.Connection, table: Table[R], where: str, *args: Any) -> list[R]:
    """Rows of the view of `table`, typed."""
    query = f"SELECT {table.select_list()} FROM {table.qualified()} {where}"
    return [table.row(record) for record in await conn.fetch(query, *args)]


async def test_projectors_starting_together_migrate_once_and_share_one_generation(
    pg_database: str,
) -> None:
    conns = [await asyncpg.connect(pg_database) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(conn) for conn in conns))
        again = await migrate(conns[0])
        ledger = await conns[0].fetch(
            "SELECT schema_name, version FROM lecturegen_meta.schema_migrations "
            "ORDER BY schema_name, version"
        )
        generation = await conns[0].fetchval(
            "SELECT generation FROM lecturegen_read.current_generation"
        )
    finally:
        for conn in conns:
            await conn.close()

    assert {r.schema for r in results} == {again.schema} == {"lecturegen_g1"}
    expected = [("lecturegen_g1", m.version) for m in load("projection")]
    expected += [("lecturegen_meta", m.version) for m in load("meta")]
    assert [tuple(row) for row in ledger] == expected
    assert generation == 1


async def test_an_asset_stored_without_a_status_reads_as_generated_on_the_timeline(
    projection: Projection,
) -> None:
    await projection.produce(list(synthetic_log(1, seed=31)))
    async with projection.running():
        await projection.wait_caught_up()
    conn = await projection.connect()
    try:
        await conn.execute(
            "UPDATE lecturegen_g1.assets SET status = NULL, media_blob_key = 'legacy.png', "
            "error = NULL"
        )
        lecture = await conn.fetchrow("SELECT * FROM lecturegen_read.lectures")
        segments = await _rows(conn, SEGMENTS, "ORDER BY position")
        assets = await _rows(conn, ASSETS, "ORDER BY position")
    finally:
        await conn.close()
    assert lecture is not None

    timeline = assemble_timeline(
        lecture["lecture_id"],
        lecture["duration_s"],
        [TimelineSegment.from_row(row) for row in segments],
        [TimelineAsset.from_row(row) for row in assets],
    )

    clips = [clip for track in timeline.tracks for clip in track.clips]
    assert len(clips) == len(assets)
    assert all(clip.status is AssetStatus.GENERATED for clip in clips)
    assert all(clip.media_url == "/media/legacy.png" for clip in clips)


async def test_a_timeline_built_from_the_views_has_a_clip_for_every_asset_whatever_its_status(
    projection: Projection,
) -> None:
    await projection.produce(list(synthetic_log(6, seed=32)))
    async with projection.running():
        await projection.wait_caught_up()
    conn = await projection.connect()
    try:
        lecture_ids = [
            r["lecture_id"]
            for r in await conn.fetch("SELECT lecture_id FROM lecturegen_read.lectures")
        ]
        for lecture_id in lecture_ids:
            lecture = await conn.fetchrow(
                "SELECT duration_s FROM lecturegen_read.lectures WHERE lecture_id = $1", lecture_id
            )
            segments = await _rows(conn, SEGMENTS, "WHERE lecture_id = $1", lecture_id)
            assets = await _rows(conn, ASSETS, "WHERE lecture_id = $1", lecture_id)
            assert lecture is not None
            timeline = assemble_timeline(
                lecture_id,
                lecture["duration_s"],
                [TimelineSegment.from_row(row) for row in segments],
                [TimelineAsset.from_row(row) for row in assets],
            )
            clips = {c.asset_id: c for t in timeline.tracks for c in t.clips}
            assert set(clips) == {row.asset_id for row in assets}
            for row in assets:
                clip = clips[row.asset_id]
                assert clip.status.value == row.status
                assert (clip.missing_reason is None) == (row.status == "generated")
                assert (clip.error is None) == (row.error is None)
    finally:
        await conn.close()


async def test_adding_waiting_for_marks_the_assets_whose_newest_event_held_them(
    pg_database: str,
) -> None:
    """Views projected before the `waiting_for` column get it from their feed."""
    first, added = load("projection")[:2]
    assert added.version == "0002_asset_waiting_for"
    conn = await asyncpg.connect(pg_database)
    try:
        await conn.execute("CREATE SCHEMA before_waiting; SET search_path TO before_waiting")
        await conn.execute(first.sql)
        feeds: list[tuple[str, str, list[str | None]]] = [
            ("held", "retrying", ["provider"]),
            ("released", "retrying", ["provider", None]),
            ("done", "generated", ["provider"]),
        ]
        for asset_id, status, waiting in feeds:
            await conn.execute(
                "INSERT INTO assets (asset_id, lecture_id, kind, position, status, prompt, "
                "model, params, prompt_version, retried_count, attempts, created_at, "
                "updated_at, last_event_id) "
                "VALUES ($1, 'l1', 'image', 0, $2, 'p', 'm', '{}', 1, 0, 1, now(), now(), 'e')",
                asset_id,
                status,
            )
            for seq, said in enumerate(waiting):
                await conn.execute(
                    "INSERT INTO lecture_event_feed VALUES ('l1', "
                    "(SELECT count(*) + 1 FROM lecture_event_feed), $1, 'asset.retrying', $2, "
                    "1, true, $3::jsonb, now())",
                    f"{asset_id}-{seq}",
                    asset_id,
                    json.dumps({"waiting_for": said}),
                )
        await conn.execute(added.sql)
        marked = await conn.fetch("SELECT asset_id, waiting_for FROM assets ORDER BY asset_id")
    finally:
        await conn.close()

    assert {row["asset_id"]: row["waiting_for"] for row in marked} == {
        "done": None,
        "held": "provider",
        "released": None,
    }
