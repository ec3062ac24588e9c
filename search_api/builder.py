"""Building the snapshot of each data version and serving it: after this process's writes, and when
another process changed the store (another worker of `policykb serve --workers N`, a `policykb ingest`).

The follower thread polls the store's data version every FOLLOW_SECONDS through a connection of its
own and builds the next snapshot in the background exactly as a writer here does, so no request ever
builds one; readers go on with the previous snapshot meanwhile (snapshots.Readers). It also picks up
vectors another process cached (at most every REFRESH_SECONDS), and every RENEW_SECONDS when nothing
changed copies the WAL into the database as far as readers allow and renews the readers' transactions,
so none stays open for long and the WAL can be reset. A snapshot is built from the previous one where
that is still valid (the index files and vectors it holds, each unchanged document's counts).
"""

from __future__ import annotations

import logging
import threading
import time

from index import Encoder, Searcher, Store
from index.dense import has_vectors, vectors_mark
from index.department_counts import DepartmentCounts
from index.resolve import citing_clauses
from index.search import QueryLimits
from index.upkeep import checkpoint

from .admission import ServiceBusy
from .embedding import REFRESH_SECONDS
from .snapshots import Readers, Snapshot

logger = logging.getLogger(__name__)
FOLLOW_SECONDS = 0.2  # how often the follower looks for another process's writes
RENEW_SECONDS = 1.0  # how often it renews the readers' transactions when nothing changed


class SnapshotBuilder:
    """Builds snapshots of `store` (the writer's connection, used under `write_lock`) for `readers`."""

    def __init__(self, store: Store, readers: Readers, write_lock: threading.Lock, encoder: Encoder | None,
                 limits: QueryLimits, wait: float, locality: str = "") -> None:
        self.store, self.readers, self.write_lock = store, readers, write_lock
        self.encoder, self.limits, self.wait, self.locality = encoder, limits, wait, locality
        self._probe = store.open_reader()  # the follower's: what the store's version is now
        self._last_build = 0.0  # when the latest build began (time.monotonic)

    def close(self) -> None:
        self._probe.close()

    def install_next(self) -> bool:
        """Build the snapshot of the store's latest version and serve it (call with the write lock);
        False when the store moved on before reader connections were reserved for it."""
        if (snapshot := self._build()) is None:
            return False
        self.readers.install(snapshot)
        return True

    def refresh(self, stale: Snapshot | None) -> None:
        """Build and install a snapshot of the store as it is now, unless someone did since `stale`."""
        if not self.write_lock.acquire(timeout=self.wait):
            raise ServiceBusy("正在更新索引，等待超时；请稍后重试")
        try:
            if self.readers.current is stale:
                self.install_next()
        finally:
            self.write_lock.release()

    def new_vectors(self) -> None:
        """The embedder committed vectors: a snapshot that searches them."""
        try:
            self.refresh(self.readers.current)
        except ServiceBusy:
            logger.info("new vectors are picked up after the write under way")

    def release_wal(self) -> None:
        """Readers of this process let go of the WAL, so a checkpoint can copy all of it and reset it:
        renewed transactions, a checkpoint (nobody reads the database file alone now), renewed again (on
        the copied file, holding no part of the WAL). Other processes' readers do it within RENEW_SECONDS."""
        self.readers.renew()
        checkpoint(self.store)
        self.readers.renew()

    def follow(self, stopping: threading.Event) -> None:
        """The follower thread's loop, until `stopping` is set."""
        renewed = time.monotonic()
        while not stopping.wait(FOLLOW_SECONDS):
            try:
                current, now = self.readers.current, time.monotonic()
                if self._probe.data_version() != current.version:
                    self.refresh(current)
                elif (self.encoder is not None and now - self._last_build >= REFRESH_SECONDS
                      and vectors_mark(self._probe) != current.vectors):
                    self.refresh(current)
                elif now - renewed >= RENEW_SECONDS:
                    checkpoint(self._probe)
                    self.readers.renew()
                    renewed = now
            except ServiceBusy:
                logger.info("another process's write is picked up after the write under way here")
            except Exception:  # noqa: BLE001 - a thread edge: log it, keep serving
                logger.exception("following the store failed")
                stopping.wait(1.0)

    def _build(self) -> Snapshot | None:
        """The derived indexes and page values of the store's latest version, with reader connections
        reserved at that version (call with the write lock); None when none could be."""
        started, store = time.perf_counter(), self.store
        self._last_build = time.monotonic()
        version = store.begin_read()
        try:
            if not self.readers.reserve(version):
                logger.info("data version %d was replaced before the readers reached it: not built", version)
                return None
            try:
                encoder = self.encoder if self.encoder and has_vectors(store, self.encoder.name) else None
                current = self.readers.current
                searcher = Searcher(store, encoder, limits=self.limits, previous=current.searcher if current else None,
                                    locality=self.locality)
                counts = DepartmentCounts.of(store, current.counts if current else None)
                snapshot = Snapshot(version, vectors_mark(store) if self.encoder else 0, searcher,
                                    citing_clauses(store), tuple(counts.summaries()), counts)
            except BaseException:
                self.readers.cancel()
                raise
        finally:
            store.end_read()
        logger.info("snapshot of data version %d built in %.2f s", version, time.perf_counter() - started)
        return snapshot
