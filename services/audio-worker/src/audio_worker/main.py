"""Composition root of the narration worker: its medium, its settings, the shared runtime."""

from __future__ import annotations

from collections.abc import Sequence

from audio_worker.medium import NARRATION
from audio_worker.settings import NarrationWorkerSettings
from shared.worker import run_worker


def main(argv: Sequence[str] | None = None) -> None:
    run_worker(NARRATION, NarrationWorkerSettings, prog="lecturegen-audio-worker", argv=argv)
