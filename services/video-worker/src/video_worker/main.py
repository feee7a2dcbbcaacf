"""Composition root of the video worker: its medium, its settings, the shared runtime."""

from __future__ import annotations

from collections.abc import Sequence

from shared.worker import run_worker
from video_worker.medium import VIDEO
from video_worker.settings import VideoWorkerSettings


def main(argv: Sequence[str] | None = None) -> None:
    run_worker(VIDEO, VideoWorkerSettings, prog="lecturegen-video-worker", argv=argv)
