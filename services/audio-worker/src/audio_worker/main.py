"""Composition root of the narration worker: its medium, its settings, the shared runtime."""

from __future__ import annotations

from audio_worker.medium import NARRATION
from audio_worker.settings import NarrationWorkerSettings
from shared.worker import run_worker


def main() -> None:
    run_worker(NARRATION, NarrationWorkerSettings())
