"""Composition root of the image worker: its medium, its settings, the shared runtime."""

from __future__ import annotations

from shared.worker import run_worker

from image_worker.medium import IMAGE
from image_worker.settings import ImageWorkerSettings


def main() -> None:
    run_worker(IMAGE, ImageWorkerSettings())
