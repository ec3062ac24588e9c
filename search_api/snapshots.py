"""Readers that never wait for writers: snapshots of the derived indexes and pinned reader connections.

A `Snapshot` is what one data version of the store needs in memory: the searcher (BM25 arrays,
vectors, department names, places) and values every clause or department page reads (who cites
what, the department list). It is built by the writer after its commit, while readers go on with
the previous one, then installed with one assignment.

`Readers` holds a fixed set of reader connections (WAL: each reads on its own). Between writes a
connection opens a read transaction per request and closes it after. While a write is under way
(`pinned`), every connection keeps its transaction open at the version it started with, so a
request served by the installed snapshot reads the rows that snapshot was built from; a request that
starts after the new snapshot is installed reads the new version. A request that finds the store at a
version no snapshot was built for (another process wrote to it) gets no snapshot: the library builds
one and asks again.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Iterator

from index import Searcher, Store
from index.directory import DepartmentSummary

from .admission import ServiceBusy


@dataclass(frozen=True)
class Snapshot:
    version: int  # the store's data version the snapshot was built from
    generation: int  # the vector generation it was built with (the embedder raises it)
    searcher: Searcher  # bound to the builder's connection: use `searcher_on` for a reader's
    cited_by: dict[str, tuple[str, ...]]  # document or clause id → the clauses of other documents citing it
    departments: tuple[DepartmentSummary, ...]  # every department, most clauses first

    def searcher_on(self, store: Store) -> Searcher:
        return self.searcher.on(store)


class Readers:
    """A fixed set of reader connections and the snapshot they serve. Thread-safe."""

    def __init__(self, stores: list[Store]) -> None:
        self._idle = list(stores)
        self._all = list(stores)
        self._snapshot_of: dict[int, Snapshot | None] = {}  # id(store) → the snapshot its transaction reads
        self._condition = threading.Condition()
        self._pinned: Snapshot | None = None
        self.current: Snapshot | None = None

    def install(self, snapshot: Snapshot) -> None:
        with self._condition:
            self.current = snapshot

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Around a write: idle connections open a transaction at the current version now, busy ones keep
        theirs when released, until the block ends (by then the new snapshot is installed, or none is)."""
        with self._condition:
            self._pinned = self.current
            for store in self._idle:
                self._begin(store)
        try:
            yield
        finally:
            with self._condition:
                self._pinned = None
                for store in self._idle:
                    self._end(store)

    @contextlib.contextmanager
    def reading(self, wait: float) -> Iterator[tuple[Store, Snapshot | None]]:
        """A reader connection in a read transaction and the snapshot built from the version it reads
        (None: no snapshot was built for it yet). Waits up to `wait` seconds for a free connection."""
        with self._condition:
            if not self._condition.wait_for(lambda: self._idle, timeout=wait):
                raise ServiceBusy(f"服务繁忙：{len(self._all)} 个读取连接都在使用中，等待 {wait:g} 秒仍未空出；请稍后重试")
            store = self._idle.pop()
            snapshot = self._begin(store)
        try:
            yield store, snapshot
        finally:
            with self._condition:
                if self._pinned is None:
                    self._end(store)
                self._idle.append(store)
                self._condition.notify()

    def close(self, wait: float) -> None:
        """Close every connection, once those in use are returned (at most `wait` seconds later)."""
        with self._condition:
            self._condition.wait_for(lambda: len(self._idle) == len(self._all), timeout=wait)
            for store in self._all:
                store.close()
            self._idle, self._all = [], []

    def _begin(self, store: Store) -> Snapshot | None:
        """Open a read transaction unless one is open; the snapshot for its version (under the condition)."""
        if id(store) not in self._snapshot_of:
            version = store.begin_read()
            candidates = [snapshot for snapshot in (self._pinned, self.current) if snapshot is not None]
            self._snapshot_of[id(store)] = next((item for item in candidates if item.version == version), None)
        return self._snapshot_of[id(store)]

    def _end(self, store: Store) -> None:
        if id(store) in self._snapshot_of:
            del self._snapshot_of[id(store)]
            store.end_read()
