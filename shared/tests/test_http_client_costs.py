"""The HTTP stack's per-request costs that come from how it is installed, not from our code."""

from __future__ import annotations

import importlib.machinery
from typing import Any
from unittest.mock import patch

from httpcore._synchronization import current_async_library


async def test_httpcore_learns_its_event_loop_without_searching_for_a_module() -> None:
    """httpcore asks `sniffio` which event loop runs on every request it sends (and on every
    connection it closes); with `sniffio` missing, each ask is a failed import that searches
    the whole `sys.path`, about a tenth of a worker's CPU under load."""
    searched: list[str] = []
    find_spec = importlib.machinery.PathFinder.find_spec

    def spy(name: str, *args: Any, **kwargs: Any) -> Any:
        searched.append(name)
        return find_spec(name, *args, **kwargs)

    with patch.object(importlib.machinery.PathFinder, "find_spec", side_effect=spy):
        libraries = {current_async_library() for _ in range(3)}

    assert libraries == {"asyncio"}
    assert searched == []
