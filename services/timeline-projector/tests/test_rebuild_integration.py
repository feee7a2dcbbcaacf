import asyncio
import gc
import os
import sys
from dataclasses import replace
from itertools import pairwise

import pytest

from shared.envelope import envelop
from shared.events import LectureCreated
from shared.settings import PostgresSettings
from timeline_projector import feed_indexes, generations
from timeline_projector.rebuild import rebuild
from timeline_projector.replay_processes import ReplayProcessError, replay_in_processes
from timeline_projector.synthetic import synthetic_log
from timeline_projector.testing import (
    Projection,
    expected_rows,
    lecture_key,
    make_settings,
    stored_rows,
)
from timeline_projector.verify import checksums

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


async def schemas(projection: Projection) -> set[str]:
    rows = await projection.fetch(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'lecturegen_g%'"
    )
    return {row["schema_name"] for row in rows}


async def current_generation(projection: Projection) -> int:
    rows = await projection.fetch("SELECT generation FROM lecturegen_read.current_generation")
    return int(rows[0]["generation"])


async def test_a_dry_run_rebuilds_and_verifies_but_does_not_switch(projection: Projection) -> None:
    log = list(synthetic_log(8, seed=21))
    await projection.produce(log)
    progress = Recorder()

    async with projection.running():
        await projection.wait_caught_up()
        report = await rebuild(projection.settings, dry_run=True, progress=progress)

    assert (report.verified, report.switched, report.differences) == (True, False, ())
    assert (report.records, report.generation, report.previous_generation) == (len(log), 2, 1)
    assert progress.calls[-1] == (len(log), len(log))
    assert [done for done, _ in progress.calls] == sorted(done for done, _ in progress.calls)
    assert await current_generation(projection) == 1
    assert await schemas(projection) == {"lecturegen_g1"}


async def test_a_rebuild_switches_to_identical_views_while_the_live_projector_keeps_going(
    projection: Projection,
) -> None:
    log = list(synthetic_log(24, seed=22))
    first, second, third = log[:300], log[300:600], log[600:]
    lecture_id = lecture_key(first[0]).decode()
    await projection.produce(first)
    reader = await projection.connect()
    try:
        async with projection.running():
            await projection.wait_caught_up()
            by_lecture = await reader.prepare(
                "SELECT asset_id, status FROM lecturegen_read.assets WHERE lecture_id = $1"
            )
            before_switch = await by_lecture.fetch(lecture_id)

            rebuilding = asyncio.create_task(rebuild(projection.settings, dry_run=False))
            await projection.produce(second)  # the live projector has more to do meanwhile
            report = await rebuilding

            assert (report.verified, report.switched, report.note) == (
                True,
                True,
                "identical to the live views",
            )
            assert await current_generation(projection) == 2
            after_switch = await by_lecture.fetch(lecture_id)
            assert after_switch
            assert {r["asset_id"] for r in after_switch} == {r["asset_id"] for r in before_switch}

            await projection.produce(third)  # now applied to generation 2
            await projection.wait_caught_up()

        conn = await projection.connect()
        try:
            assert await stored_rows(conn, "lecturegen_g2") == expected_rows(log)
            assert await checksums(conn, "lecturegen_g1") != await checksums(conn, "lecturegen_g2")
        finally:
            await conn.close()
        assert await schemas(projection) == {"lecturegen_g1", "lecturegen_g2"}
    finally:
        await reader.close()


async def test_a_rebuild_gathers_whole_batches_over_fetches_that_bring_fewer_records(
    kafka_bootstrap: str, pg_database: str, unique_name: str
) -> None:
    batch = 60
    settings = make_settings(
        kafka_bootstrap, pg_database, unique_name, rebuild_batch_size=batch, rebuild_workers=2
    )
    projection = Projection(settings)
    await projection.create_topic()
    log = list(synthetic_log(8, seed=29))
    await projection.produce(log)
    progress = Recorder()

    async with projection.running():
        await projection.wait_caught_up()
        report = await rebuild(settings, dry_run=True, progress=progress)

    assert report.verified
    done = [d for d, _ in progress.calls]
    sizes = [b - a for a, b in pairwise(done) if b > a]
    assert sum(sizes) == len(log)
    assert len([size for size in sizes if size < batch]) <= 2  # each worker's last batch


async def test_a_replay_spares_its_rows_from_the_cycle_collector_until_it_ends(
    projection: Projection,
) -> None:
    await projection.produce(list(synthetic_log(4, seed=28)))
    frozen: list[int] = []
    young: list[int] = []
    thresholds = gc.get_threshold()

    def progress(done: int, total: int) -> None:
        frozen.append(gc.get_freeze_count())
        young.append(gc.get_threshold()[0])

    async with projection.running():
        await projection.wait_caught_up()
        report = await rebuild(projection.settings, dry_run=True, progress=progress)

    assert report.verified
    assert max(frozen) > 0
    assert gc.get_freeze_count() == 0
    assert max(young) > thresholds[0]  # young objects collected in larger rounds meanwhile
    assert gc.get_threshold() == thresholds


async def test_a_rebuild_that_outgrows_its_working_set_reads_rows_back_and_still_matches(
    kafka_bootstrap: str, pg_database: str, unique_name: str
) -> None:
    settings = make_settings(
        kafka_bootstrap,
        pg_database,
        unique_name,
        rebuild_batch_size=40,
        rebuild_working_set_rows=60,
    )
    projection = Projection(settings)
    await projection.create_topic()
    log = list(synthetic_log(6, seed=26))
    await projection.produce(log)

    async with projection.running():
        await projection.wait_caught_up()
        report = await rebuild(settings, dry_run=True)

    assert (report.verified, report.differences) == (True, ())
    assert report.working_set_loads > 0


async def test_a_rebuild_of_a_log_with_an_event_postgresql_cannot_store_matches_the_live_views(
    projection: Projection, caplog: pytest.LogCaptureFixture
) -> None:
    log = list(synthetic_log(3, seed=27))
    poison = LectureCreated(
        lecture_id="poisoned", title="nul \x00 in the title", duration_s=1, segments=(), assets=()
    )
    middle = len(log) // 2
    await projection.produce([*log[:middle], envelop(poison, "test"), *log[middle:]])

    async with projection.running():
        await projection.wait_caught_up()
        report = await rebuild(projection.settings, dry_run=True)

    assert (report.verified, report.differences, report.rejected) == (True, (), 1)
    assert "replaying again" in caplog.text  # the lecture's row was held back, then refused


async def test_replay_processes_with_an_event_postgresql_cannot_store_replay_again_and_match(
    kafka_bootstrap: str, pg_database: str, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        kafka_bootstrap,
        pg_database,
        unique_name,
        rebuild_processes=2,
        rebuild_process_min_records=1,
    )
    projection = Projection(settings)
    await projection.create_topic()
    log = list(synthetic_log(4, seed=36))
    poison = LectureCreated(
        lecture_id="poisoned", title="nul \x00 in the title", duration_s=1, segments=(), assets=()
    )
    await projection.produce([*log, envelop(poison, "test")])

    async with projection.running():
        await projection.wait_caught_up()
        report = await rebuild(settings, dry_run=True)

    assert (report.verified, report.differences, report.rejected) == (True, (), 1)
    assert "replaying again" in caplog.text


async def test_a_rebuild_that_cannot_verify_does_not_switch_unless_forced(
    kafka_bootstrap: str, pg_database: str, unique_name: str
) -> None:
    settings = make_settings(kafka_bootstrap, pg_database, unique_name, verify_timeout_s=0.5)
    projection = Projection(settings)
    await projection.create_topic()
    log = list(synthetic_log(5, seed=23))
    await projection.produce(log)  # and no live projector runs

    unverified = await rebuild(settings, dry_run=False)
    forced = await rebuild(settings, dry_run=False, force=True)

    assert (unverified.verified, unverified.switched) == (False, False)
    assert "did not catch up" in unverified.note
    assert (forced.generation, forced.verified, forced.switched) == (3, False, True)
    assert await schemas(projection) == {"lecturegen_g1", "lecturegen_g3"}  # 2 was dropped
    async with projection.running():  # continues from the offsets of generation 3
        await projection.wait_caught_up()
    conn = await projection.connect()
    try:
        generation = await generations.current(conn)
        assert generation is not None
        assert generation.schema == "lecturegen_g3"
        assert await stored_rows(conn, generation.schema) == expected_rows(log)
    finally:
        await conn.close()


async def test_a_rebuild_reports_views_that_differ_from_the_live_ones(
    projection: Projection,
) -> None:
    await projection.produce(list(synthetic_log(4, seed=24)))
    async with projection.running():
        await projection.wait_caught_up()
        conn = await projection.connect()
        try:
            await conn.execute("UPDATE lecturegen_g1.assets SET status = NULL")
        finally:
            await conn.close()

        report = await rebuild(projection.settings, dry_run=False)

    assert (report.verified, report.switched) == (False, False)
    assert [line.split(":")[0] for line in report.differences] == ["assets"]
    assert await current_generation(projection) == 1


async def test_the_standalone_rebuild_command_runs_a_dry_run_with_a_progress_bar(
    projection: Projection,
) -> None:
    await projection.produce(list(synthetic_log(3, seed=25)))
    settings = projection.settings
    env = {
        **os.environ,
        "LECTUREGEN_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "LECTUREGEN_TOPIC_NAMESPACE": settings.kafka.topic_namespace,
        "DATABASE_URL": settings.postgres.dsn,
        "LECTUREGEN_DATABASE_URL": settings.postgres.dsn,
        "LECTUREGEN_PROJECTOR_GROUP_ID": settings.projector.group_id,
    }
    async with projection.running():
        await projection.wait_caught_up()
        command = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "timeline_projector",
            "rebuild",
            "--dry-run",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(command.communicate(), timeout=120)

    assert command.returncode == 0, err.decode()
    assert "verified: True" in out.decode()
    assert "dry run" in out.decode()
    assert "replaying the event log" in err.decode()
    assert await current_generation(projection) == 1


async def test_a_rebuild_applied_in_separate_processes_switches_to_identical_views(
    kafka_bootstrap: str, pg_database: str, unique_name: str
) -> None:
    settings = make_settings(
        kafka_bootstrap,
        pg_database,
        unique_name,
        rebuild_processes=2,
        rebuild_process_min_records=1,
        rebuild_batch_size=100,
    )
    projection = Projection(settings)
    await projection.create_topic()
    log = list(synthetic_log(12, seed=30))
    first, second = log[:400], log[400:]
    await projection.produce(first)
    progress = Recorder()

    async with projection.running():
        await projection.wait_caught_up()
        rebuilding = asyncio.create_task(rebuild(settings, dry_run=False, progress=progress))
        await projection.produce(second)  # caught up in this process, reading rows back
        report = await rebuilding
        await projection.wait_caught_up()

    assert (report.verified, report.switched, report.differences) == (True, True, ())
    assert report.records >= len(first)
    assert [done for done, _ in progress.calls] == sorted(done for done, _ in progress.calls)
    conn = await projection.connect()
    try:
        assert await stored_rows(conn, "lecturegen_g2") == expected_rows(log)
        assert await feed_indexes.present(conn, "lecturegen_g2") == set(feed_indexes.CONSTRAINTS)
    finally:
        await conn.close()


async def test_replay_processes_that_outgrow_their_working_sets_index_the_feed_and_match(
    kafka_bootstrap: str, pg_database: str, unique_name: str
) -> None:
    settings = make_settings(
        kafka_bootstrap,
        pg_database,
        unique_name,
        rebuild_processes=2,
        rebuild_process_min_records=1,
        rebuild_batch_size=50,
        rebuild_working_set_rows=80,
    )
    projection = Projection(settings)
    await projection.create_topic()
    log = list(synthetic_log(10, seed=32))
    await projection.produce(log)

    async with projection.running():
        await projection.wait_caught_up()
        report = await rebuild(settings, dry_run=False)

    assert (report.verified, report.switched, report.differences) == (True, True, ())
    assert report.working_set_loads > 0
    conn = await projection.connect()
    try:
        assert await feed_indexes.present(conn, "lecturegen_g2") == set(feed_indexes.CONSTRAINTS)
    finally:
        await conn.close()


async def test_a_replay_process_that_fails_fails_the_rebuild_with_its_reason(
    kafka_bootstrap: str, pg_database: str, unique_name: str
) -> None:
    settings = make_settings(
        kafka_bootstrap,
        pg_database,
        unique_name,
        rebuild_processes=2,
        rebuild_process_min_records=1,
    )
    projection = Projection(settings)
    await projection.create_topic()
    await projection.produce(list(synthetic_log(4, seed=31)))
    async with projection.running():
        await projection.wait_caught_up()
    broken = replace(settings, postgres=PostgresSettings(dsn=settings.postgres.dsn + "_missing"))

    with pytest.raises(ReplayProcessError, match="exited with 1"):
        await replay_in_processes(
            broken, "lecturegen_g1", {0: (0, 10), 1: (0, 10)}, complete=False, progress=print
        )
