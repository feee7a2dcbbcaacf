from rich.console import Console

from lecturegen_cli.ops.status import process_row, redact_dsn
from lecturegen_cli.ops.status_view import ComponentStatus, status_table
from lecturegen_cli.state import ProcessRecord, ProcessState


def _record(**changes) -> ProcessRecord:
    fields = {
        "name": "image-worker",
        "command": ("lecturegen-image-worker",),
        "state": ProcessState.RUNNING,
        "pid": 10,
        "start_ticks": 5,
        "restarts": 0,
        "address": "http://127.0.0.1:9101/metrics",
        "log": "logs/image-worker.log",
    }
    return ProcessRecord(**{**fields, **changes})


def _render(rows) -> str:
    console = Console(width=200, record=True)
    console.print(status_table(rows))
    return console.export_text()


def test_a_supervised_process_shows_its_recorded_state_and_lag():
    row = process_row(_record(), supervised=True, consumes=True, lag=12)
    assert row == ComponentStatus(
        "image-worker", "running", "http://127.0.0.1:9101/metrics", 10, 0, 12, True, None
    )


def test_a_crashed_process_says_how_it_exited_and_that_it_is_being_restarted():
    record = _record(state=ProcessState.CRASHED, pid=None, restarts=2, last_exit=-9)
    row = process_row(record, supervised=True, consumes=True, lag=None)
    assert row.state == "crashed"
    assert row.detail is not None
    assert "exit -9" in row.detail
    assert "restarting" in row.detail


def test_a_restarted_process_remembers_its_last_exit():
    row = process_row(_record(restarts=1, last_exit=-9), supervised=True, consumes=True, lag=0)
    assert row.detail == "last exit -9"


def test_without_a_supervisor_a_live_child_is_an_orphan_and_a_dead_one_is_stopped():
    orphan = process_row(
        _record(), supervised=False, consumes=True, lag=None, alive=lambda pid, ticks: True
    )
    assert orphan.state == "orphaned"
    assert orphan.pid == 10
    gone = process_row(
        _record(), supervised=False, consumes=True, lag=None, alive=lambda pid, ticks: False
    )
    assert gone.state == "stopped"
    assert gone.pid is None


def test_the_table_shows_lag_only_for_consumers_and_a_question_mark_when_unknown():
    text = _render(
        [
            ComponentStatus("api", "running", "http://127.0.0.1:8000", 3, 0),
            ComponentStatus("dispatcher", "running", None, 4, 0, None, True),
            ComponentStatus("audio-worker", "running", None, 5, 1, 17, True),
        ]
    )
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert lines["api"].split()[-1] == "http://127.0.0.1:8000"
    assert lines["dispatcher"].split()[-1] == "?"
    assert lines["audio-worker"].split()[-1] == "17"


def test_the_json_form_names_every_field_but_the_internal_consumer_flag():
    row = ComponentStatus("kafka", "running", "127.0.0.1:19092", 99)
    assert row.to_json() == {
        "name": "kafka",
        "state": "running",
        "address": "127.0.0.1:19092",
        "pid": 99,
        "restarts": None,
        "lag": None,
        "detail": None,
        "replica": None,
    }


def test_a_password_in_the_database_url_is_not_shown():
    assert redact_dsn("postgresql://u:hunter2@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert redact_dsn("postgresql://u@db/x") == "postgresql://u@db/x"


def test_replicas_of_a_scaled_component_are_numbered_and_share_its_lag_column():
    rows = [
        process_row(
            _record(name=n, replica_of="image-worker"),
            supervised=True,
            consumes=True,
            lag=4,
            replica=r,
        )
        for n, r in (("image-worker", "1/2"), ("image-worker-2", "2/2"))
    ]
    text = _render(rows)
    lines = [line.split() for line in text.splitlines()[1:] if line.strip()]
    assert [(line[0], line[1], line[-1]) for line in lines] == [
        ("image-worker", "1/2", "4"),
        ("image-worker-2", "2/2", "4"),
    ]
    assert text.splitlines()[0].split()[:2] == ["component", "replica"]
