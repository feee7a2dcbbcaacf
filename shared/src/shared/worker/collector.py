"""How a worker process sets Python's collector of reference cycles (decision 0035).

A busy worker allocates thousands of short-lived container objects per request (records,
events, futures, coroutines), nearly all freed at once by reference counting. With the
default threshold (a collection of the youngest generation every 700 allocations) the
collector ran every few requests, promoted whatever the turns in flight held to the older
generations, and so set off full collections that walked the whole heap: measured at
50 to 70 µs of CPU per request, a quarter of the worker's time. Two settings take that to
5 to 20 µs:

- the heap the worker has once it started (modules, models, clients) moves to the
  collector's permanent generation (`gc.freeze`): it is still freed by reference counting,
  but no full collection walks it again;
- the youngest generation is collected every `YOUNG_THRESHOLD` allocations: cycles are still
  collected, in larger rounds.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation (Python's default: 700)."""


def settle_collector() -> None:
    """Call once the worker has started, before it takes requests. A process that froze
    objects itself (a pre-forking server) is left as it is."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
