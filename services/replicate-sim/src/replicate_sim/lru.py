"""A least-recently-used map bounded by the total size of its values, safe across threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Keeps the most recently used values whose sizes add up to at most `max_bytes`
    (the newest value is always kept, even when it alone is larger)."""

    def __init__(self, max_bytes: int, size_of: Callable[[V], int]) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._max_bytes = max_bytes
        self._size_of = size_of
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += self._size_of(value) - (self._size_of(old) if old is not None else 0)
            self._items[key] = value
            while self._bytes > self._max_bytes and len(self._items) > 1:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= self._size_of(evicted)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)
