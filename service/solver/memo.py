"""A bounded memo for the solver's pure, small results, shared across requests.

``functools.lru_cache`` would keep any result, however large (a search's option table can hold
100,000 layers); this keeps only results of at most ``max_item`` elements, and at most
``max_entries`` of them, dropping the oldest first. Reads and writes are single dict operations,
safe under the GIL from the batch endpoints' worker threads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    __slots__ = ("_data", "max_entries", "max_item")

    def __init__(self, *, max_entries: int, max_item: int) -> None:
        self._data: dict[Hashable, V] = {}
        self.max_entries, self.max_item = max_entries, max_item

    def get(self, key: Hashable) -> V | None:
        return self._data.get(key)

    def put(self, key: Hashable, value: V, size: int) -> V:
        """Keep ``value`` (of ``size`` elements) when it is small enough; return it either way."""
        if size <= self.max_item:
            if len(self._data) >= self.max_entries:
                # StopIteration, RuntimeError: emptied or resized by another thread meanwhile.
                with contextlib.suppress(StopIteration, RuntimeError):
                    self._data.pop(next(iter(self._data)), None)
            self._data[key] = value
        return value

    def clear(self) -> None:
        self._data.clear()
