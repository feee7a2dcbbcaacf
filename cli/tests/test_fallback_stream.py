import contextlib
import io
import os
from pathlib import Path

from lecturegen_cli.fallback_stream import FallbackStream


class BrokenTerminal(io.StringIO):
    """A terminal that went away after `good` writes (EIO, as a hung-up tty answers)."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def write(self, text: str) -> int:
        if self.good <= 0:
            raise OSError(5, "Input/output error")
        self.good -= 1
        return super().write(text)


def test_output_goes_to_the_terminal_until_it_breaks_then_to_the_log(tmp_path: Path) -> None:
    terminal = BrokenTerminal(good=1)
    log = tmp_path / "logs" / "supervisor.log"
    stream = FallbackStream(terminal, log)

    stream.write("ready\n")
    stream.write("image-worker exited (-9); restarting\n")
    stream.write("stopped\n")
    stream.close()

    assert terminal.getvalue() == "ready\n"
    assert stream.fell_back
    assert log.read_text().splitlines()[1:] == [
        "image-worker exited (-9); restarting",
        "stopped",
    ]


def test_a_closed_pipe_is_survived(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    pipe = os.fdopen(write_end, "w")
    stream = FallbackStream(pipe, tmp_path / "supervisor.log")
    try:
        assert stream.write("hello\n") == 6
        assert stream.fell_back
        assert "hello" in (tmp_path / "supervisor.log").read_text()
    finally:
        stream.close()
        with contextlib.suppress(BrokenPipeError):
            pipe.close()  # what it could not write is still buffered there
