from lecturegen_cli.lag import lag


def test_lag_sums_what_each_partition_has_left_after_its_committed_offset():
    end = {("t", 0): 10, ("t", 1): 5}
    assert lag(end, {("t", 0): 7, ("t", 1): 5}, {}) == 3


def test_a_partition_without_a_committed_offset_counts_from_its_beginning():
    end = {("t", 0): 10, ("t", 1): 4}
    beginning = {("t", 0): 2, ("t", 1): 0}
    assert lag(end, {("t", 0): None}, beginning) == 8 + 4


def test_an_offset_below_the_retained_beginning_counts_from_the_beginning():
    assert lag({("t", 0): 10}, {("t", 0): 1}, {("t", 0): 6}) == 4


def test_a_consumer_ahead_of_the_end_has_no_negative_lag():
    assert lag({("t", 0): 3}, {("t", 0): 5}, {}) == 0
