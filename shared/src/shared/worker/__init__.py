"""The one worker runtime every media worker runs (DESIGN §4, §6).

A worker's `main()`: `run_worker(SPEC, ImageWorkerSettings, prog=...)`. Tests and benchmarks build a
`WorkerRuntime` with `open_worker(kind, generator, config)` and any `Generator`.
"""

from shared.worker.entry import WorkerConfig, open_worker, run_worker, serve
from shared.worker.runtime import WorkerRuntime
from shared.worker.settings import WorkerSettings

__all__ = [
    "WorkerConfig",
    "WorkerRuntime",
    "WorkerSettings",
    "open_worker",
    "run_worker",
    "serve",
]
