"""Readers that never wait for writers: snapshots of the derived indexes and pinned reader connections.

A `Snapshot` is what one data version of the store needs in memory: the searcher (BM25 arrays,
vectors, department names, places) and values every clause or department page reads (who cites
what, the department list). It is built from the previous one where that is still valid (the
indexes' saved files and vectors, each unchanged document's department counts), off the request path — by a writer of this process after
its commit, or by the library's follower thread when another process (another worker of `policykb
serve --workers N`, a `policykb ingest`) changed the store — while readers go on with the previous
one, and installed with one assignment.

`Readers` holds two sets of reader connections (WAL: each reads on its own). Every connection a
request can get is inside a read transaction at the version of a snapshot it serves, so a commit
anywhere never leaves a request without the snapshot of the rows it reads. Before a snapshot is
built, the connections not in use `reserve` its version (each opens a read transaction and is kept
when it reads that version); `install` hands them to requests, and the connections of older
snapshots leave their transactions as soon as they are idle, to be reserved for the next one. The
same exchange `renew`s the connections now and then when nothing changed, so that no read
transaction stays open for long and SQLite can reset its write-ahead log.

    serving (pinned at the current or an older snapshot) ──idle, older──► spare (no transaction)
            ▲                                                                │
            └──────────── install ◄── reserved (pinned at the version being built) ◄──┘
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Iterator

from index import Searcher, Store
from index.department_counts import DepartmentCounts
from index.directory import DepartmentSummary

from .admission import ServiceBusy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    version: int  # the store's data version the snapshot was built from
    vectors: int  # the store's vectors mark it was built at (index.dense.vectors_mark)
    searcher: Searcher  # bound to the builder's connection: use `searcher_on` for a reader's
    cited_by: dict[str, tuple[str, ...]]  # document or clause id → the clauses of other documents citing it
    departments: tuple[DepartmentSummary, ...]  # every department, most clauses first
    counts: DepartmentCounts  # what `departments` was made of, per document (for the next snapshot)

    def searcher_on(self, store: Store) -> Searcher:
        return self.searcher.on(store)


@dataclass(frozen=True)
class Reading:
    """A reader connection in a read transaction, the snapshot built from the version it reads, and
    how long the request waited for them."""

    store: Store
    snapshot: Snapshot
    waited: float  # seconds


class Readers:
    """Reader connections and the snapshots they serve. Thread-safe; `reserve`, `install` and `cancel`
    are called by one builder at a time (the library's write lock), `renew` at any time (it does nothing
    while a snapshot is being built).

    Half of `stores` serve requests at once; the other half are the spares reserved for the next snapshot.
    """

    def __init__(self, stores: list[Store]) -> None:
        self._all = list(stores)
        self._spare = list(stores)  # in no transaction
        self._reserved: list[Store] = []  # in a transaction at the version being built
        self._idle: list[Store] = []  # serving, not in use
        self._snapshot_of: dict[int, Snapshot] = {}  # id(store) → the snapshot its transaction reads
        self._installed_in: dict[int, int] = {}  # id(store) → the install (a count) that handed it to requests
        self._installs = 0
        self._condition = threading.Condition()
        self._serving = max(1, len(stores) // 2)
        self.current: Snapshot | None = None

    def reserve(self, version: int) -> bool:
        """Spare connections open a read transaction; those that read `version` are kept for the
        snapshot about to be built from it (the others leave theirs). Whether any is kept."""
        with self._condition:
            self._drop_reserved()
            for store in self._spare[:self._serving]:
                if _begin(store) == version:
                    self._spare.remove(store)
                    self._reserved.append(store)
                else:
                    store.end_read()
            return bool(self._reserved)

    def install(self, snapshot: Snapshot) -> None:
        """Serve `snapshot` through the connections reserved for its version; the connections that
        served before leave their transactions, idle ones now, those in use when they are returned."""
        with self._condition:
            if not self._reserved:
                raise ValueError("install: no connection was reserved for this snapshot")
            self.current, self._installs = snapshot, self._installs + 1
            for store in self._reserved:
                self._snapshot_of[id(store)], self._installed_in[id(store)] = snapshot, self._installs
            for store in self._idle:
                self._retire(store)
            self._idle, self._reserved = self._reserved, []
            self._condition.notify_all()

    def cancel(self) -> None:
        """The snapshot the reserved connections were for will not be installed."""
        with self._condition:
            self._drop_reserved()

    def renew(self) -> bool:
        """Serve the current snapshot through fresh transactions, when the store is still at its
        version (so no transaction stays open for long); whether it was."""
        with self._condition:
            if self.current is None or self._reserved or not self.reserve(self.current.version):
                return False
            self.install(self.current)
            return True

    @contextlib.contextmanager
    def reading(self, wait: float) -> Iterator[Reading]:
        """A connection at the current snapshot (idle connections are at the current one); waits up to
        `wait` seconds for one to be free."""
        started = time.perf_counter()
        with self._condition:
            if not self._condition.wait_for(lambda: self._idle, timeout=wait):
                raise ServiceBusy(f"服务繁忙：{self._serving} 个读取连接都在使用中，等待 {wait:g} 秒仍未空出；请稍后重试")
            store = self._idle.pop()
            snapshot = self._snapshot_of[id(store)]
        try:
            yield Reading(store, snapshot, time.perf_counter() - started)
        finally:
            with self._condition:
                if self._installed_in[id(store)] == self._installs:
                    self._idle.append(store)
                    self._condition.notify()
                else:  # a newer snapshot, or the same one through fresh transactions, was installed meanwhile
                    self._retire(store)

    def close(self, wait: float) -> None:
        """Close every connection, once those in use are returned (at most `wait` seconds later)."""
        with self._condition:
            self._condition.wait_for(lambda: self._in_use() == 0, timeout=wait)
            for store in self._all:
                store.close()
            self._all, self._spare, self._reserved, self._idle = [], [], [], []

    def _retire(self, store: Store) -> None:
        del self._snapshot_of[id(store)], self._installed_in[id(store)]
        store.end_read()
        self._spare.append(store)

    def _drop_reserved(self) -> None:
        for store in self._reserved:
            store.end_read()
        self._spare += self._reserved
        self._reserved = []

    def _in_use(self) -> int:
        return len(self._all) - len(self._spare) - len(self._reserved) - len(self._idle)


def _begin(store: Store) -> int | None:
    """Open a read transaction; the version it reads, or None when SQLite refused (busy recovering the WAL)."""
    try:
        return store.begin_read()
    except sqlite3.OperationalError as error:
        logger.info("a reader connection could not open a read transaction now: %s", error)
        store.end_read()
        return None
