from lecturegen_cli.stack.restart import Backoff, RestartPolicy

POLICY = RestartPolicy(initial_delay_s=0.5, factor=2.0, max_delay_s=4.0, healthy_after_s=30.0)


def test_crashes_in_a_row_double_the_wait_up_to_the_cap() -> None:
    backoff = Backoff(POLICY)
    delays = []
    now = 100.0
    for _ in range(6):
        backoff.started(now)
        now += 1.0  # each run dies after a second
        delays.append(backoff.exited(now))
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_long_healthy_run_starts_the_backoff_afresh() -> None:
    backoff = Backoff(POLICY)
    backoff.started(0.0)
    backoff.exited(1.0)
    backoff.started(2.0)
    assert backoff.exited(3.0) == 1.0
    backoff.started(10.0)
    assert backoff.exited(10.0 + POLICY.healthy_after_s) == 0.5


def test_a_process_that_never_started_counts_as_a_crash_right_away() -> None:
    backoff = Backoff(POLICY)
    assert backoff.exited(5.0) == 0.5
    assert backoff.exited(5.0) == 1.0
