"""Output that survives its terminal: the supervisor's messages go to the terminal (or pipe)
that started it until writing there fails, and to its log file from then on.

A closed terminal makes writes fail with EIO, a closed pipe with EPIPE; either must never stop
the supervisor, whose children keep running either way.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import TextIO


class FallbackStream(io.TextIOBase):
    """A text stream that writes to `primary` until a write fails, then appends to `fallback`.

    When it falls back it also points the process's own stdout and stderr (file descriptors 1
    and 2, where they were the broken stream) at the log, so text buffered in `sys.stdout` or
    a last traceback lands there instead of failing again at exit.
    """

    def __init__(self, primary: TextIO, fallback: Path) -> None:
        super().__init__()
        self._primary: TextIO = primary
        self._fallback_path = fallback
        self._log: TextIO | None = None

    @property
    def fell_back(self) -> bool:
        return self._log is not None

    def write(self, text: str) -> int:
        if self._log is None:
            try:
                self._primary.write(text)
                self._primary.flush()
                return len(text)
            except OSError:
                self._fall_back()
        assert self._log is not None
        self._log.write(text)
        self._log.flush()
        return len(text)

    def flush(self) -> None:
        target = self._log if self._log is not None else self._primary
        with contextlib.suppress(OSError):
            target.flush()

    def close(self) -> None:
        """Close the log, if it was opened; the primary stream belongs to the caller."""
        super().close()  # flushes first
        if self._log is not None:
            self._log.close()

    def isatty(self) -> bool:
        return self._log is None and self._primary.isatty()

    def writable(self) -> bool:
        return True

    def _fall_back(self) -> None:
        self._fallback_path.parent.mkdir(parents=True, exist_ok=True)
        log = self._fallback_path.open("a", encoding="utf-8")
        log.write("--- the terminal is gone; output continues here\n")
        self._log = log
        broken = _fileno(self._primary)
        for fd in (1, 2):
            if broken is not None and _same_file(fd, broken):
                os.dup2(log.fileno(), fd)


def _fileno(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


def _same_file(fd: int, other: int) -> bool:
    """Whether descriptors `fd` and `other` refer to one open file (a terminal shared by
    stdout and stderr counts as one)."""
    try:
        a, b = os.fstat(fd), os.fstat(other)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
