"""The store's reads of the embedding cache: which units have vectors, and the vectors themselves.

Part of the store API (reads.py's `StoreReads` inherits them; store.py writes the cache).
"""

from __future__ import annotations

import sqlite3
from typing import Iterable, Iterator

_CHUNK = 900  # ids per IN (…): under SQLite's default limit of 999 parameters


def marks(values: Iterable[object]) -> str:
    """«?,?,?»: one placeholder per value."""
    return ",".join("?" for _ in values)


def chunks(ids: list, size: int = _CHUNK) -> Iterator[list]:
    """`ids` in slices that fit one IN (…)."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


class VectorReads:
    """Read queries of the `embeddings` table over `self._connection`."""

    _connection: sqlite3.Connection

    def units_without_vectors(self, encoder: str) -> list[tuple[str, str]]:
        """(passage hash, passage) of units whose passage has no cached vector for this encoder."""
        return self._connection.execute(
            "SELECT DISTINCT u.passage_hash, u.passage FROM units u LEFT JOIN embeddings e "
            "ON e.passage_hash = u.passage_hash AND e.encoder = ? WHERE e.vector IS NULL ORDER BY u.id",
            (encoder,)).fetchall()

    def has_vectors(self, encoder: str) -> bool:
        """Whether any vector of this encoder is cached (cheap: no passage is read)."""
        return self._connection.execute("SELECT EXISTS (SELECT 1 FROM embeddings WHERE encoder = ?)",
                                        (encoder,)).fetchone()[0] == 1

    def embedded_unit_count(self, encoder: str) -> int:
        return self._connection.execute(
            "SELECT count(*) FROM units u JOIN embeddings e ON e.passage_hash = u.passage_hash AND e.encoder = ?",
            (encoder,)).fetchone()[0]

    def unit_vectors(self, encoder: str) -> list[tuple[int, bytes]]:
        """(unit id, float32 vector bytes) of the units with a cached vector, in id order."""
        return self._connection.execute(
            "SELECT u.id, e.vector FROM units u JOIN embeddings e ON e.passage_hash = u.passage_hash "
            "AND e.encoder = ? ORDER BY u.id", (encoder,)).fetchall()

    def vectors_mark(self) -> int:
        """A number that grows whenever vectors are cached (of any encoder)."""
        return self._connection.execute("SELECT COALESCE(MAX(rowid), 0) FROM embeddings").fetchone()[0]

    def embedded_unit_ids(self, encoder: str, among: list[int] | None = None) -> list[int]:
        """The ids of the units (of `among`, or all) whose passage has a cached vector, in id order."""
        if among is None:
            return [unit for unit, in self._connection.execute(
                "SELECT u.id FROM units u JOIN embeddings e ON e.passage_hash = u.passage_hash AND e.encoder = ? "
                "ORDER BY u.id", (encoder,))]
        found: list[int] = []
        for chunk in chunks(sorted(among)):
            found += [unit for unit, in self._connection.execute(
                "SELECT u.id FROM units u JOIN embeddings e ON e.passage_hash = u.passage_hash AND e.encoder = ? "
                f"WHERE u.id IN ({marks(chunk)}) ORDER BY u.id", (encoder, *chunk))]
        return found

    def vectors_of_units(self, encoder: str, unit_ids: list[int]) -> dict[int, bytes]:
        """Unit id → its cached vector's bytes, for those of the units that have one."""
        found: dict[int, bytes] = {}
        for chunk in chunks(list(unit_ids)):
            found.update(self._connection.execute(
                "SELECT u.id, e.vector FROM units u JOIN embeddings e ON e.passage_hash = u.passage_hash AND e.encoder = ? "
                f"WHERE u.id IN ({marks(chunk)})", (encoder, *chunk)).fetchall())
        return found

    def passage_vectors(self, encoder: str) -> list[tuple[str, bytes]]:
        """(passage hash, vector bytes) of the cached vectors the store's units use, by hash."""
        return self._connection.execute(  # IN (subquery): one pass over units, not one per cached vector
            "SELECT e.passage_hash, e.vector FROM embeddings e WHERE e.encoder = ? "
            "AND e.passage_hash IN (SELECT passage_hash FROM units) ORDER BY e.passage_hash", (encoder,)).fetchall()
