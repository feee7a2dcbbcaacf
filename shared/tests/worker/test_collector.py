"""A worker process moves its start-up heap out of the collector's way and collects young
objects in larger rounds (decision 0035). Run in a process of its own: the settings are the
whole process's."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import gc
from shared.worker.collector import YOUNG_THRESHOLD, settle_collector
before = gc.get_threshold()
settle_collector()
after = gc.get_threshold()
print(before[0], after[0] == YOUNG_THRESHOLD, after[1:] == before[1:], gc.get_freeze_count() > 0)
"""


def test_settling_the_collector_freezes_the_heap_and_raises_the_young_threshold() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()

    assert out == ["700", "True", "True", "True"]


def test_a_process_that_froze_its_heap_itself_is_left_as_it_is() -> None:
    probe = "import gc\ngc.freeze()\n" + _PROBE
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()

    assert out[:3] == ["700", "False", "True"]
