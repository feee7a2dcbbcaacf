from timeline_projector.replay_processes import shares


def test_partitions_with_records_left_are_dealt_round_robin_over_the_processes() -> None:
    spans = {p: (0, 10) for p in range(5)}

    assert shares(spans, 2) == [
        {0: (0, 10), 2: (0, 10), 4: (0, 10)},
        {1: (0, 10), 3: (0, 10)},
    ]


def test_partitions_with_nothing_left_get_no_process() -> None:
    spans = {0: (5, 5), 1: (3, 9), 2: (7, 7)}

    assert shares(spans, 4) == [{1: (3, 9)}]
