import os
import stat
from pathlib import Path

from lecturegen_cli.state import (
    Consumer,
    Phase,
    ProcessRecord,
    ProcessState,
    RunState,
    read_state,
    write_state,
)


def _state() -> RunState:
    return RunState(
        supervisor_pid=42,
        supervisor_ticks=1234,
        phase=Phase.READY,
        started_at="2026-01-01T00:00:00+00:00",
        api_url="http://127.0.0.1:8000",
        api_token="secret",
        provider="replicate-sim",
        kafka_bootstrap="127.0.0.1:19092",
        database_url="postgresql://lecturegen@127.0.0.1:55432/lecturegen",
        topic_namespace="",
        log_dir="logs",
        processes={
            "api": ProcessRecord(
                "api", ("lecturegen-api",), ProcessState.RUNNING, pid=7, start_ticks=9
            )
        },
        consumers={"dispatcher": Consumer(("lecturegen.events.v1",), "lecturegen-dispatcher")},
    )


def test_the_state_file_round_trips_and_only_its_owner_may_read_it(tmp_path: Path) -> None:
    path = tmp_path / "run" / "state.json"
    write_state(path, _state())
    assert read_state(path) == _state()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_missing_or_foreign_state_file_reads_as_no_run(tmp_path: Path) -> None:
    assert read_state(tmp_path / "absent.json") is None
    (tmp_path / "bad.json").write_text('{"version": 99}')
    assert read_state(tmp_path / "bad.json") is None
    (tmp_path / "garbage.json").write_text("not json")
    assert read_state(tmp_path / "garbage.json") is None


def test_a_run_whose_supervisor_is_gone_reads_as_orphaned_until_it_is_recorded_stopped() -> None:
    from dataclasses import replace

    from lecturegen_cli.stack.recorder import stopped

    assert _state().observed_phase(supervisor_alive=True) == "ready"
    assert _state().observed_phase(supervisor_alive=False) == "orphaned"
    ended = stopped(_state())
    assert ended.observed_phase(supervisor_alive=False) == "stopped"
    assert ended.processes["api"].pid is None
    assert replace(_state(), phase=Phase.FAILED).observed_phase(supervisor_alive=False) == "failed"


def test_the_ports_of_a_run_are_kept_in_the_state_file_after_it_stopped(tmp_path: Path) -> None:
    from dataclasses import replace

    from lecturegen_cli.stack.recorder import stopped

    path = tmp_path / "state.json"
    write_state(path, stopped(replace(_state(), ports={"api": 8123})))
    state = read_state(path)
    assert state is not None
    assert state.ports == {"api": 8123}
