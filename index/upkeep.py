"""Upkeep of a store file: is it whole, how large is it, and giving disk space back.

SQLite keeps freed pages inside the file and lets the write-ahead log grow to the largest transaction
it has seen: after a large document is deleted, a store can hold most of its size as free pages and
a WAL of hundreds of MB. `reclaim` is the policy a service runs after its writes; new stores are made
with incremental vacuum (Store.open), older ones are converted by one VACUUM when first needed.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Callable

from ingest.errors import StoreError

from .store import BUSY, Store

logger = logging.getLogger(__name__)


def check_store(store: Store) -> None:
    """SQLite's quick_check (pages and indexes readable); StoreError saying what to do when not."""
    try:
        problems = store.integrity_problems(5)
    except sqlite3.DatabaseError as error:
        problems = [str(error)]
    if problems != ["ok"]:
        raise StoreError(f"数据库文件 {store.path} 已损坏（{'；'.join(problems)[:300]}）；请停止服务，"
                         "从备份恢复这个文件，或换一个 --home 重新运行 policykb ingest")


def disk_bytes(store: Store) -> int:
    """The store's size on disk: the database file and its write-ahead log."""
    return sum(path.stat().st_size for path in (store.path, store.path.with_name(store.path.name + "-wal"))
               if path.exists())


def checkpoint(store: Store) -> None:
    """Copy the write-ahead log into the database as far as readers allow, waiting for nobody (PASSIVE):
    readers that begin afterwards read the database file, and the next writer can start the log over."""
    store.checkpoint_passive()


def reclaim(store: Store, wal_limit: int, free_share: float,
            release: Callable[[], None] = lambda: None) -> tuple[int, int]:
    """Give disk space back after large writes or deletes; returns (bytes before, bytes after).

    When free pages are more than `free_share` of the file they are released (incremental vacuum; a
    store made before incremental vacuum is converted once by a full VACUUM). Then, when the WAL is
    over `wal_limit` bytes or pages were released, it is copied into the database and truncated, as far
    as readers allow: a reader still on an older snapshot leaves it for the next time. `release` is
    called just before: the caller's readers let go of the WAL (a service renews their transactions).
    Call it with no other use of `store`'s connection under way (the service holds its write lock)."""
    name = store.path.name
    before = disk_bytes(store)
    pages, free, incremental = store.pages()
    wal = store.path.with_name(name + "-wal")
    many_free = bool(pages) and free / pages > free_share
    if not many_free and not (wal.exists() and wal.stat().st_size > wal_limit):
        return before, before
    try:
        if many_free:
            if not incremental:
                logger.info("converting %s to incremental vacuum (VACUUM; %d of %d pages free)", name, free, pages)
            store.release_free_pages(convert=not incremental)
        release()
        if not store.checkpoint():
            logger.info("%s: the WAL is still read by an older snapshot; truncated next time", name)
    except sqlite3.OperationalError as error:
        if str(error) not in BUSY:
            raise
        raise StoreError("另一个程序正在写入数据库，稍后再回收磁盘空间") from None
    after = disk_bytes(store)
    logger.info("%s: %.1f MB on disk before reclaiming, %.1f MB after", name, before / 2**20, after / 2**20)
    return before, after
