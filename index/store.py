"""The SQLite store: documents, clauses, tasks, responsibilities and learned aliases.

One transaction per document: a document is either wholly present in its latest version or
absent. Putting a document whose sha256 is already stored is a no-op; putting a new version with
the same id replaces the old one inside the same transaction — unless the caller said not to
(`replace=False`: an upload replaces only when asked) — and records who replaced what, and when,
in `replacements`. Everything proportional to the document that needs no lock (its units and their
jieba tokens) is computed before the transaction.

Identity and history: a random `store_id` is written once into a new store, and every committed change
of documents raises `data_version` and records it in `versions` with a random token. Derived files
(lexical.npz, the HNSW graph) name the (store id, version, token) they were saved at, and are taken
as current only when this store's history holds that version with that token: a store restored
from an older backup, or another store's files, are rebuilt rather than read.

Several connections may read one store at once (WAL: `open_reader`, one per thread); `begin_read`
pins a reader to the snapshot of the moment until `end_read`. Upkeep's policy (when to check, when to
give space back) is in upkeep.py; its statements are here.

The store is the one door to the data: its writes are here (twins' in twin_store.py, validity's in
validity_store.py), its reads in reads.py (which `Store` inherits); no other module holds the connection
or writes SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import sqlite3
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ingest import Document, Responsibility
from ingest.errors import NotFound, StoreError
from ingest.normalize import matching_copy

from .reads import StoreReads
from .rows import DOCUMENT_FIELDS, Outcome, Replacement, StoreVersion, dumps
from .segment import Segmenter, segmenter
from .twin_store import TwinWrites
from .validity_store import ValidityWrites
from .units import Unit, document_units

logger = logging.getLogger(__name__)
FORMAT_VERSION = 5
STORE_FILE = "policykb.sqlite3"
_VERSIONS_KEPT = 100_000  # history rows kept for the manifest check (an older index file is rebuilt)
BUSY = ("database is locked", "database is busy", "database table is locked")  # SQLite's messages


class Store(StoreReads, TwinWrites, ValidityWrites):
    """A policykb store in one SQLite file. Use `Store.open(home)`; close it when done.

    One connection, usable from any thread but not from two at once: a service gives each request a
    reader connection of its own (`open_reader`; search_api.snapshots) and writes through one.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path, words: Segmenter, busy_timeout: float) -> None:
        self._connection = connection
        self.path = path
        self.segmenter = words
        self.busy_timeout = busy_timeout

    @classmethod
    def open(cls, home: Path | str, *, words: Segmenter | None = None, busy_timeout: float = 30.0) -> "Store":
        """Open (creating if needed) the store in `home`; re-tokenises BM25 rows if the dictionary changed.
        A write waits up to `busy_timeout` seconds for another process's write lock, then raises StoreError."""
        home = Path(home)
        try:
            home.mkdir(parents=True, exist_ok=True)
            connection = _connect(home / STORE_FILE, busy_timeout)
            if connection.execute("PRAGMA page_count").fetchone()[0] == 0:
                connection.execute("PRAGMA auto_vacuum=INCREMENTAL")  # only a new file can take it without VACUUM
            connection.execute("PRAGMA journal_mode=WAL")
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"无法打开数据目录 {home}：{error}；请检查 --home 或 POLICYKB_HOME 指向可写目录") from error
        store = cls(connection, home / STORE_FILE, words or segmenter(), busy_timeout)
        store._ensure_schema()
        store._check_tokenizer()
        return store

    def open_reader(self) -> "Store":
        """Another connection to this store, for reading only (one per thread; WAL lets them read at once)."""
        connection = _connect(self.path, self.busy_timeout)
        connection.execute("PRAGMA query_only=ON")
        return type(self)(connection, self.path, self.segmenter, self.busy_timeout)

    def begin_read(self) -> int:
        """Pin this connection to the store as it is now (a read transaction); returns its data version.
        Already pinned: the version it is pinned at."""
        if not self._connection.in_transaction:
            self._connection.execute("BEGIN")
        return self.data_version()  # the first read fixes the snapshot

    def end_read(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_schema(self) -> None:
        try:
            self._connection.executescript((Path(__file__).parent / "schema.sql").read_text(encoding="utf-8"))
            row = self._connection.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} 不是 policykb 数据库（{error}）；请换一个 --home 目录") from error
        format_version = int(row[0]) if row is not None else FORMAT_VERSION
        if row is None:
            self._connection.execute("INSERT INTO meta VALUES ('format_version', ?)", (str(FORMAT_VERSION),))
        if format_version == 2:  # format 2 → 3: a task's marker kind and deadline
            with self._connection:
                self._connection.execute("ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'paren'")
                self._connection.execute("ALTER TABLE tasks ADD COLUMN deadline TEXT NOT NULL DEFAULT ''")
                self._connection.execute("UPDATE meta SET value = '3' WHERE key = 'format_version'")
            format_version = 3
        if format_version == 3:  # format 3 → 4: passages in their matching copy; twins, in ingest order
            with self._transaction():
                doc_ids = [doc_id for (doc_id,) in self._connection.execute("SELECT id FROM documents ORDER BY rowid")]
                if doc_ids:
                    logger.warning("store format 3 → 4: Simplified passages and twins for %d documents", len(doc_ids))
                self._simplify_passages()
                for doc_id in doc_ids:
                    self._link_twins(doc_id)
                self._connection.execute("UPDATE meta SET value = '4' WHERE key = 'format_version'")
            format_version = 4
        if format_version == 4:  # format 4 → 5: validity, read again from the stored text
            with self._transaction():
                self._add_validity()
                self._connection.execute("UPDATE meta SET value = ? WHERE key = 'format_version'", (str(FORMAT_VERSION),))
        elif format_version != FORMAT_VERSION:
            raise StoreError(f"{self.path} 的格式版本是 {row[0]}，本程序只读 {FORMAT_VERSION}；"
                             f"请换一个 --home 目录后重新运行 policykb ingest")
        # Unit ids are allocated from this counter and never reused, so derived indexes can tell the
        # units added since they were saved (ids above their largest) from those they hold.
        if self._connection.execute("SELECT 1 FROM meta WHERE key = 'next_unit_id'").fetchone() is None:
            self._connection.execute("INSERT OR IGNORE INTO meta SELECT 'next_unit_id', COALESCE(MAX(id), 0) + 1 FROM units")
        # Written once (a store made before identities gets its own at its next open, as does its version).
        if self._connection.execute("SELECT 1 FROM meta WHERE key = 'store_id'").fetchone() is None:
            self._connection.execute("INSERT OR IGNORE INTO meta VALUES ('store_id', ?)", (secrets.token_hex(16),))
        if self._connection.execute("SELECT 1 FROM versions WHERE version = ?", (self.data_version(),)).fetchone() is None:
            self._connection.execute("INSERT OR IGNORE INTO versions VALUES (?, ?)",
                                     (self.data_version(), secrets.token_hex(8)))

    def _simplify_passages(self) -> None:
        """Units stored before passages were kept in their matching copy get it (and a new hash: their
        vectors are embedded again); the BM25 rows are re-tokenised by `_check_tokenizer`."""
        rows = self._connection.execute("SELECT id, passage FROM units").fetchall()
        changed = [(copy, hashlib.sha256(copy.encode("utf-8")).hexdigest(), unit_id) for unit_id, passage in rows
                   if (copy := matching_copy(passage)) != passage]
        self._connection.executemany("UPDATE units SET passage = ?, passage_hash = ? WHERE id = ?", changed)
        if changed:
            self._connection.execute("DELETE FROM meta WHERE key = 'tokenizer'")

    def _check_tokenizer(self) -> None:
        """The lexical index's manifest check: tokens made by another dictionary are rebuilt in place."""
        row = self._connection.execute("SELECT value FROM meta WHERE key = 'tokenizer'").fetchone()
        if row is not None and row[0] == self.segmenter.fingerprint:
            return
        with self._transaction() as connection:
            rows = connection.execute("SELECT id, passage FROM units").fetchall()
            if rows:
                logger.warning("tokenizer changed (%s → %s): re-tokenising %d units", row and row[0],
                               self.segmenter.fingerprint, len(rows))
            connection.execute("DELETE FROM units_fts")
            connection.executemany("INSERT INTO units_fts (rowid, tokens) VALUES (?, ?)",
                                   [(unit_id, " ".join(self.segmenter.tokens(passage))) for unit_id, passage in rows])
            connection.execute("INSERT OR REPLACE INTO meta VALUES ('tokenizer', ?)", (self.segmenter.fingerprint,))
            self._bump_data_version()

    # -- writing -------------------------------------------------------------------------------

    def document_sha256(self, doc_id: str) -> str | None:
        """The stored version's content hash, or None when there is no such document."""
        row = self._connection.execute("SELECT sha256 FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def document_hashes(self, doc_ids: list[str]) -> dict[str, str]:
        """Document id → sha256 of the stored version, for those of `doc_ids` that are stored."""
        return dict(self._connection.execute(f"SELECT id, sha256 FROM documents WHERE id IN ({','.join('?' * len(doc_ids))})",
                                             doc_ids).fetchall())

    def has_sha256(self, sha256: str) -> bool:
        return self._connection.execute("SELECT 1 FROM documents WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def put_document(self, document: Document, units: list[tuple[Unit, str]] | None = None, *,
                     replace: bool = True, actor: str = "") -> Outcome:
        """Store a document in one transaction; returns what it did (added, replaced, unchanged, older, exists).
        `units`: its `tokenized_units`, when the caller computed them before (outside its write lock).

        A version dated before the stored one ("older") is not stored: ingesting a folder with both
        versions of a law keeps the newer one whatever the order. With `replace=False` another stored
        version is left alone ("exists"). A replacement is recorded with `actor` (who asked).
        """
        row = self._connection.execute("SELECT sha256 FROM documents WHERE id = ?", (document.id,)).fetchone()
        if row is not None and row[0] == document.sha256:
            return Outcome.UNCHANGED  # the common re-ingest: no tokenising, no write lock
        if row is not None and not replace:
            return Outcome.EXISTS
        units = self.tokenized_units(document) if units is None else units
        with self._transaction() as connection:
            row = connection.execute("SELECT sha256, date, title FROM documents WHERE id = ?", (document.id,)).fetchone()
            if row is not None and row[0] == document.sha256:
                return Outcome.UNCHANGED
            if row is not None and not replace:
                return Outcome.EXISTS
            if row is not None and document.date and row[1] and document.date < row[1]:
                return Outcome.OLDER
            if row is not None:  # the old version's clauses are kept as its history, then it goes
                replacement = connection.execute("INSERT INTO replacements VALUES (?, ?, ?, ?, ?, ?, ?)", (
                    document.id, datetime.now(timezone.utc).isoformat(timespec="seconds"), actor or "unknown",
                    row[0], row[2], document.sha256, document.title)).lastrowid
                connection.execute("INSERT INTO replaced_clauses SELECT ?, ordinal, id, number, title, text FROM clauses "
                                   "WHERE doc_id = ?", (replacement, document.id))
                self._delete(document.id)
            self._insert(document, units)
            self._bump_data_version()
        logger.info("%s %s (%d clauses)", "replaced" if row else "added", document.id, len(document.clauses))
        return Outcome.REPLACED if row else Outcome.ADDED

    def replacements(self, doc_id: str) -> list[Replacement]:
        """The recorded replacements of a document, oldest first."""
        rows = self._connection.execute("SELECT * FROM replacements WHERE doc_id = ? ORDER BY rowid", (doc_id,))
        return [Replacement(*row) for row in rows]

    def tokenized_units(self, document: Document) -> list[tuple[Unit, str]]:
        """The document's retrieval units with their jieba tokens (space-joined), as the BM25 rows hold them."""
        return [(unit, " ".join(self.segmenter.tokens(unit.passage))) for unit in document_units(document)]

    def delete_document(self, doc_id: str) -> None:
        with self._transaction():
            if not self._delete(doc_id):
                raise NotFound(f"没有文件 {doc_id}；用 policykb docs 查看已有文件")
            self._connection.execute("DELETE FROM validity_marks WHERE doc_id = ?", (doc_id,))
            self._bump_data_version()

    def data_version(self) -> int:
        """A counter raised by every committed change of documents: derived indexes record it."""
        row = self._connection.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def commits_seen(self) -> int:
        """SQLite's data_version: a number that changes whenever another connection commits (of any
        process, whatever it wrote), read without a transaction of this one."""
        return self._connection.execute("PRAGMA data_version").fetchone()[0]

    def version(self) -> StoreVersion:
        """This store's identity and where its history stands (inside `begin_read`: at that snapshot)."""
        store_id, version = self._connection.execute(
            "SELECT (SELECT value FROM meta WHERE key = 'store_id'), "
            "(SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version'), 0))").fetchone()
        row = self._connection.execute("SELECT token FROM versions WHERE version = ?", (version,)).fetchone()
        return StoreVersion(store_id or "", version, row[0] if row else "")

    def has_version(self, version: StoreVersion) -> bool:
        """Whether `version` (read from a derived file) is this store's, and a point of its history."""
        row = self._connection.execute("SELECT token FROM versions WHERE version = ?", (version.data_version,)).fetchone()
        return version.store_id == self.version().store_id and row is not None and row[0] == version.token

    def _bump_data_version(self) -> None:
        self._connection.execute("INSERT INTO meta VALUES ('data_version', '1') ON CONFLICT (key) DO UPDATE "
                                 "SET value = CAST(value AS INTEGER) + 1")
        version = self.data_version()
        self._connection.execute("INSERT OR REPLACE INTO versions VALUES (?, ?)", (version, secrets.token_hex(8)))
        self._connection.execute("DELETE FROM versions WHERE version <= ?", (version - _VERSIONS_KEPT,))

    def _delete(self, doc_id: str) -> bool:
        """Delete a document, its BM25 rows and (by cascade) everything else; inside a transaction."""
        self._connection.execute("DELETE FROM units_fts WHERE rowid IN (SELECT id FROM units WHERE doc_id = ?)",
                                 (doc_id,))
        self._unlink_twins(doc_id)
        return self._connection.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount > 0

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (also KeyboardInterrupt). Raises
        StoreError when another process holds the write lock for longer than the busy timeout."""
        try:
            self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if str(error) not in BUSY:
                raise
            raise StoreError(f"数据库正被另一个程序写入（等待 {self.busy_timeout:g} 秒后仍未释放）；"
                             "请等 policykb ingest 等写入结束后重试") from None
        try:
            yield self._connection
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")

    def _insert(self, document: Document, units: list[tuple[Unit, str]]) -> None:
        """Insert a document and its retrieval units with their (already computed) jieba tokens."""
        execute = self._connection.execute
        values = [getattr(document, name) for name in DOCUMENT_FIELDS]
        values[DOCUMENT_FIELDS.index("issuers")] = dumps(document.issuers)
        execute(f"INSERT INTO documents ({', '.join(DOCUMENT_FIELDS)}, ingested_at) VALUES "
                f"({', '.join('?' * (len(values) + 1))})", (*values, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        self._insert_changes(document.id, document.changes)
        for ordinal, clause in enumerate(document.clauses):
            execute("INSERT INTO clauses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                clause.id, document.id, ordinal, clause.kind, clause.number, dumps(clause.path),
                dumps(clause.heading_path), clause.title, clause.text, dumps(clause.topics),
                dumps(clause.measures), dumps([asdict(t) for t in clause.targets]),
                dumps([asdict(c) for c in clause.citations])))
            for task_ordinal, task in enumerate(clause.tasks):
                execute("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?)",
                        (clause.id, task_ordinal, task.text, task.marker, task.kind, task.deadline))
                self._insert_responsibilities(clause.id, task_ordinal, task.departments)
            self._insert_responsibilities(clause.id, -1, clause.inherited)
        self._connection.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?, ?)",
                                     [(alias, canonical, document.id) for alias, canonical in document.aliases])
        first = int(execute("SELECT value FROM meta WHERE key = 'next_unit_id'").fetchone()[0])
        execute("UPDATE meta SET value = ? WHERE key = 'next_unit_id'", (str(first + len(units)),))
        for unit_id, (unit, tokens) in enumerate(units, start=first):
            execute("INSERT INTO units (id, clause_id, task_ordinal, doc_id, passage, passage_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (unit_id, unit.clause_id, unit.task_ordinal, unit.doc_id,
                                                  unit.passage, unit.passage_hash))
            execute("INSERT INTO units_fts (rowid, tokens) VALUES (?, ?)", (unit_id, tokens))
        self._link_twins(document.id)

    def _insert_responsibilities(self, clause_id: str, task_ordinal: int,
                                 responsibilities: tuple[Responsibility, ...]) -> None:
        self._connection.executemany("INSERT INTO responsibilities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (clause_id, task_ordinal, ordinal, item.name, item.canonical, item.role, item.basis, item.level,
             dumps(item.includes)) for ordinal, item in enumerate(responsibilities)])

    # -- vectors and upkeep ---------------------------------------------------------------------

    def put_vectors(self, encoder: str, vectors: list[tuple[str, bytes]], *, overwrite: bool) -> int:
        """Cache (passage hash, float32 vector bytes) for `encoder` in one transaction; a vector already
        cached is replaced when `overwrite`, else kept. Returns how many rows were written."""
        verb = "INSERT OR REPLACE" if overwrite else "INSERT OR IGNORE"
        with self._transaction() as connection:
            before = connection.total_changes
            connection.executemany(f"{verb} INTO embeddings VALUES (?, ?, ?)",
                                   [(encoder, passage_hash, vector) for passage_hash, vector in vectors])
            return connection.total_changes - before

    def integrity_problems(self, limit: int = 5) -> list[str]:
        """SQLite's quick_check: ["ok"], or up to `limit` problems."""
        return [row[0] for row in self._connection.execute(f"PRAGMA quick_check({int(limit)})")]

    def pages(self) -> tuple[int, int, bool]:
        """(pages in the file, free pages, whether incremental vacuum is on)."""
        execute = self._connection.execute
        return (execute("PRAGMA page_count").fetchone()[0], execute("PRAGMA freelist_count").fetchone()[0],
                execute("PRAGMA auto_vacuum").fetchone()[0] == 2)

    def release_free_pages(self, *, convert: bool) -> None:
        """Give free pages back to the file system: incremental vacuum, or (`convert`: a store made before
        incremental vacuum) switch it on with one full VACUUM."""
        if convert:
            self._connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._connection.execute("VACUUM")
        else:
            self._connection.executescript("PRAGMA incremental_vacuum;")  # execute() would free one page only

    def back_up(self, path: Path) -> None:
        """A consistent copy of the store in the file `path` (SQLite's online backup; readers go on)."""
        target = sqlite3.connect(path)
        try:
            self._connection.backup(target)
        finally:
            target.close()

    def checkpoint_passive(self) -> None:
        """Copy the WAL into the database as far as readers allow, waiting for nobody."""
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it; False when a reader still holds part of it."""
        return self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection
