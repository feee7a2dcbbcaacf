"""Composition root of the image worker: its medium, its settings, the shared runtime."""

from __future__ import annotations

from image_worker.medium import IMAGE
from image_worker.settings import ImageWorkerSettings
from shared.worker import run_worker


def main() -> None:
    run_worker(IMAGE, ImageWorkerSettings())
