"""A small LRU cache of embeddings, kept for the life of a warm sandbox.

Repeated texts (health probes, popular queries, retries) cost a dictionary
lookup instead of an inference.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol


class Vector(Protocol):
    """One embedding as the runtime holds it: the ONNX embedder's ``array.array("f")``
    row, or anything else with ``tolist()`` (a numpy row in tests)."""

    def tolist(self) -> list[float]: ...


class EmbeddingCache:
    """Least-recently-used map from text to its embedding; size 0 disables it."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._entries: OrderedDict[str, Vector] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> Vector | None:
        """The cached vector for ``text``, marking it recently used."""
        vector = self._entries.get(text)
        if vector is None:
            self.misses += 1
            return None
        self._entries.move_to_end(text)
        self.hits += 1
        return vector

    def put_many(self, items: Iterable[tuple[str, Vector]]) -> None:
        """Store vectors, evicting the least recently used past the limit."""
        if self._max == 0:
            return
        for text, vector in items:
            self._entries[text] = vector
            self._entries.move_to_end(text)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
