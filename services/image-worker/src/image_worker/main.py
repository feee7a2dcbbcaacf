"""Composition root of the image worker: its medium, its settings, the shared runtime."""

from __future__ import annotations

from collections.abc import Sequence

from image_worker.medium import IMAGE
from image_worker.settings import ImageWorkerSettings
from shared.worker import run_worker


def main(argv: Sequence[str] | None = None) -> None:
    run_worker(IMAGE, ImageWorkerSettings, prog="lecturegen-image-worker", argv=argv)
