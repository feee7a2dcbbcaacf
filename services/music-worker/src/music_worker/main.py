"""Composition root of the music worker: its medium, its settings, the shared runtime."""

from __future__ import annotations

from music_worker.medium import MUSIC
from music_worker.settings import MusicWorkerSettings
from shared.worker import run_worker


def main() -> None:
    run_worker(MUSIC, MusicWorkerSettings())
