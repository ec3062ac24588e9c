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
transaction stays open for long and SQLite can reset its write-ahead log. When writes come faster than
requests end, fewer spares are left to reserve: a request that finds every connection of the current
snapshot in use then opens a spare at the current version or, when the store has moved on, reads
the previous snapshot through one of its idle connections, rather than wait.

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
    """Reader connections and the snapshots they serve. Thread-safe: `reserve` is followed by `install`
    or `cancel` (one reservation at a time), `renew` does nothing while a snapshot is being built.

    `serving` connections serve at once; give twice as many, so as many are spare for the next snapshot.
    A request gets a connection of the current snapshot; when all of those are in use (writes came faster
    than requests ended, so fewer were spare to reserve) it opens a spare at the current version, or, when
    the store has moved on already, takes an idle connection of the previous snapshot: it never waits
    while a connection is idle.
    """

    def __init__(self, stores: list[Store], serving: int) -> None:
        self._all = list(stores)
        self._spare = list(stores)  # in no transaction
        self._reserved: list[Store] = []  # in a transaction at the version being built
        self._idle: list[Store] = []  # serving, not in use: the current snapshot's, then the previous one's
        self._snapshot_of: dict[int, Snapshot] = {}  # id(store) → the snapshot its transaction reads
        self._installed_in: dict[int, int] = {}  # id(store) → the install (a count) that handed it to requests
        self._busy: dict[int, int] = {}  # id(store) of a connection in use → the install it was taken at
        self._retired: list[Store] = []  # out of use, their transactions to be ended (then spare)
        self._installs = 0
        self._condition = threading.Condition()
        self._reservation = threading.Lock()  # held from `reserve` to `install` or `cancel`
        self._serving = serving
        self.current: Snapshot | None = None
        self._previous: Snapshot | None = None

    def reserve(self, version: int) -> bool:
        """Spare connections (idle ones of older snapshots made spare as needed) open a read transaction;
        those that read `version` are kept for the snapshot about to be built from it; whether any is.
        Then `install` or `cancel` (one reservation at a time: a renewal under way is waited for)."""
        self._reservation.acquire()
        if not self._reserve(version):
            self._reservation.release()
            return False
        return True

    def install(self, snapshot: Snapshot) -> None:
        """Serve `snapshot` through the connections reserved for its version. The connections that served
        before leave their transactions (idle ones now, those in use when they are returned), except as
        many of the previous snapshot's as the reserved ones fall short of `serving`."""
        with self._condition:
            if not self._reserved:
                raise ValueError("install: no connection was reserved for this snapshot")
            if snapshot is not self.current:
                self._previous = self.current
            self.current, self._installs = snapshot, self._installs + 1
            for store in self._reserved:
                self._snapshot_of[id(store)], self._installed_in[id(store)] = snapshot, self._installs
            older, self._idle, self._reserved = self._idle, self._reserved, []
            for store in sorted(older, key=lambda store: -self._installed_in[id(store)]):
                if self._keeps(store):
                    self._idle.append(store)
                else:
                    self._retire(store)
            self._condition.notify_all()
        self._reservation.release()
        self._end_retired()

    def cancel(self) -> None:
        """The snapshot the reserved connections were for will not be installed."""
        with self._condition:
            reserved, self._reserved = self._reserved, []
        self._reservation.release()
        self._end(reserved)

    def renew(self) -> bool:
        """Serve the current snapshot through fresh transactions, when the store is still at its version
        for as many connections as serve it (so no transaction stays open for long); whether it was.
        Nothing is done while a snapshot is being built."""
        if self.current is None or not self._reservation.acquire(blocking=False):
            return False
        if self._reserve(self.current.version) and len(self._reserved) >= self._serving:
            self.install(self.current)
            return True
        self.cancel()  # the store moved on (a write not installed yet): the next install renews them
        return False

    def _reserve(self, version: int) -> bool:
        """`reserve` with the reservation held: transactions are opened outside the condition, so that
        requests taking and returning connections meanwhile do not wait for them."""
        with self._condition:
            for store in sorted(self._idle, key=lambda store: self._installed_in[id(store)]):
                if len(self._spare) + len(self._retired) >= self._serving:
                    break
                if self._installed_in[id(store)] != self._installs:
                    self._idle.remove(store)
                    self._retire(store)
        self._end_retired()
        with self._condition:
            claimed, self._spare = self._spare[:self._serving], self._spare[self._serving:]
        opened = [(store, _begin(store)) for store in claimed]
        missed = [store for store, at in opened if at != version]
        self._end(missed)
        with self._condition:
            self._reserved = [store for store, at in opened if at == version]
            return bool(self._reserved)

    @contextlib.contextmanager
    def reading(self, wait: float) -> Iterator[Reading]:
        """A connection at the current snapshot (or the previous one, see the class); waits up to `wait`
        seconds for one to be free."""
        started = time.perf_counter()
        with self._condition:
            if not self._condition.wait_for(self._available, timeout=wait):
                raise ServiceBusy(f"服务繁忙：{self._serving} 个读取连接都在使用中，等待 {wait:g} 秒仍未空出；请稍后重试")
            store = self._idle.pop(0)  # the current snapshot's come first
            snapshot = self._snapshot_of[id(store)]
            self._busy[id(store)] = self._installed_in[id(store)]
        try:
            yield Reading(store, snapshot, time.perf_counter() - started)
        finally:
            with self._condition:
                del self._busy[id(store)]
                if self._installed_in[id(store)] == self._installs:
                    self._idle.insert(0, store)
                elif self._keeps(store):
                    self._idle.append(store)
                else:  # a newer snapshot, or the same one through fresh transactions, was installed meanwhile
                    self._retire(store)
                self._condition.notify()
            self._end_retired()

    def close(self, wait: float) -> None:
        """Close every connection, once those in use are returned (at most `wait` seconds later)."""
        with self._condition:
            self._condition.wait_for(lambda: not self._busy, timeout=wait)
            for store in self._all:
                store.close()
            self._all, self._spare, self._reserved, self._idle, self._retired = [], [], [], [], []

    def _available(self) -> bool:
        """Whether an idle connection is at hand — after opening a spare at the current version when all of
        the current snapshot's are in use and fewer than `serving` (the store not having moved on)."""
        if self._idle and self._installed_in[id(self._idle[0])] == self._installs:
            return True
        if self.current is not None and self._spare and self._current_count() < self._serving:
            store = self._spare[-1]
            if _begin(store) == self.current.version:
                self._spare.pop()
                self._snapshot_of[id(store)], self._installed_in[id(store)] = self.current, self._installs
                self._idle.insert(0, store)
                return True
            store.end_read()  # the store moved on: the next snapshot is on its way
        return bool(self._idle)

    def _keeps(self, store: Store) -> bool:
        """Whether a connection of an earlier install goes on serving (see `install`)."""
        return (self._snapshot_of[id(store)] in (self._previous, self.current)
                and self._current_count() + sum(self._installed_in[id(other)] != self._installs
                                                for other in self._idle) < self._serving)

    def _current_count(self) -> int:
        current = sum(self._installed_in[id(store)] == self._installs for store in self._idle)
        return current + sum(install == self._installs for install in self._busy.values())

    def _retire(self, store: Store) -> None:
        """(Under the condition.) The connection leaves its snapshot; `_end_retired` ends its transaction."""
        del self._snapshot_of[id(store)], self._installed_in[id(store)]
        self._retired.append(store)

    def _end_retired(self) -> None:
        with self._condition:
            retired, self._retired = self._retired, []
        self._end(retired)

    def _end(self, stores: list[Store]) -> None:
        """End the transactions of connections nobody uses (outside the condition), then make them spare."""
        for store in stores:
            store.end_read()
        with self._condition:
            self._spare += stores


def _begin(store: Store) -> int | None:
    """Open a read transaction; the version it reads, or None when SQLite refused (busy recovering the WAL)."""
    try:
        return store.begin_read()
    except sqlite3.OperationalError as error:
        logger.info("a reader connection could not open a read transaction now: %s", error)
        store.end_read()
        return None
