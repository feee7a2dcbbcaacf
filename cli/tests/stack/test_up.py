import subprocess
import sys
from pathlib import Path

from rich.console import Console

from lecturegen_cli.paths import RunPaths
from lecturegen_cli.processes import is_alive, start_ticks
from lecturegen_cli.stack.up import refuse_second_run
from lecturegen_cli.state import Phase, ProcessRecord, ProcessState, RunState, write_state


def _paths(tmp_path: Path) -> RunPaths:
    return RunPaths(repo_root=tmp_path, run_dir=tmp_path / "run", log_dir=tmp_path / "logs")


def _state(supervisor: tuple[int | None, int | None], child: tuple[int, int | None]) -> RunState:
    return RunState(
        supervisor_pid=supervisor[0],
        supervisor_ticks=supervisor[1],
        phase=Phase.READY,
        started_at="t",
        api_url="http://127.0.0.1:8000",
        api_token="x",
        provider="replicate-sim",
        kafka_bootstrap="k",
        database_url="d",
        topic_namespace="",
        log_dir="l",
        processes={
            "image-worker": ProcessRecord(
                "image-worker", ("w",), ProcessState.RUNNING, pid=child[0], start_ticks=child[1]
            )
        },
    )


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )


def test_a_second_up_is_refused_while_the_first_supervisor_lives(tmp_path: Path) -> None:
    supervisor, child = _sleeper(), _sleeper()
    try:
        paths = _paths(tmp_path)
        write_state(
            paths.state_file,
            _state((supervisor.pid, start_ticks(supervisor.pid)), (child.pid, None)),
        )
        console = Console(record=True, width=200)
        assert refuse_second_run(paths, console)
        assert "already running" in console.export_text()
        assert is_alive(child.pid, None)
    finally:
        for p in (supervisor, child):
            p.kill()
            p.wait()


def test_up_stops_the_orphans_of_a_run_whose_supervisor_died(tmp_path: Path) -> None:
    orphan = _sleeper()
    try:
        paths = _paths(tmp_path)
        write_state(paths.state_file, _state((None, None), (orphan.pid, start_ticks(orphan.pid))))
        assert not refuse_second_run(paths, Console(record=True))
        assert orphan.wait(timeout=10) == -15
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
