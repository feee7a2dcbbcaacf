"""Composition root of the music worker: its medium, its settings, the shared runtime."""

from __future__ import annotations

from collections.abc import Sequence

from music_worker.medium import MUSIC
from music_worker.settings import MusicWorkerSettings
from shared.worker import run_worker


def main(argv: Sequence[str] | None = None) -> None:
    run_worker(MUSIC, MusicWorkerSettings, prog="lecturegen-music-worker", argv=argv)
