"""The SQLite store: documents, clauses, tasks, responsibilities and learned aliases.

One transaction per document: a document is either wholly present in its latest version or
absent. Putting a document whose sha256 is already stored is a no-op; putting a new version with
the same id replaces the old one inside the same transaction — unless the caller said not to
(`replace=False`: an upload replaces only when asked) — and records who replaced what, and when,
in `replacements`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ingest import Citation, Clause, Document, Responsibility, Target, Task
from ingest.errors import NotFound, StoreError

from .segment import Segmenter, segmenter
from .units import document_units

logger = logging.getLogger(__name__)
FORMAT_VERSION = 3
STORE_FILE = "policykb.sqlite3"
_DOCUMENT_FIELDS = ("id", "title", "doc_number", "issuers", "date", "level", "source", "sha256", "script",
                    "format", "encoding", "addressees")


@dataclass(frozen=True)
class Replacement:
    """One stored version replaced by another (`Store.replacements`)."""

    doc_id: str
    replaced_at: str  # ISO 8601, UTC
    actor: str  # who asked: "cli:USER", "api:CLIENT-ADDRESS"
    old_sha256: str
    old_title: str
    new_sha256: str
    new_title: str


class Store:
    """A policykb store in one SQLite file. Use `Store.open(home)`; close it when done.

    One connection, usable from any thread but not from two at once: a service that shares a store
    between threads holds a lock around every use (search_api.library does).
    """

    def __init__(self, connection: sqlite3.Connection, path: Path, words: Segmenter) -> None:
        self._connection = connection
        self.path = path
        self.segmenter = words

    @classmethod
    def open(cls, home: Path | str, *, words: Segmenter | None = None) -> "Store":
        """Open (creating if needed) the store in `home`; re-tokenises BM25 rows if the dictionary changed."""
        home = Path(home)
        try:
            home.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(home / STORE_FILE, timeout=30, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"无法打开数据目录 {home}：{error}；请检查 --home 或 POLICYKB_HOME 指向可写目录") from error
        store = cls(connection, home / STORE_FILE, words or segmenter())
        store._ensure_schema()
        store._check_tokenizer()
        return store

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
        if row is None:
            self._connection.execute("INSERT INTO meta VALUES ('format_version', ?)", (str(FORMAT_VERSION),))
        elif int(row[0]) == 2:  # format 2 → 3: a task's marker kind and deadline
            with self._connection:
                self._connection.execute("ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'paren'")
                self._connection.execute("ALTER TABLE tasks ADD COLUMN deadline TEXT NOT NULL DEFAULT ''")
                self._connection.execute("UPDATE meta SET value = ? WHERE key = 'format_version'", (str(FORMAT_VERSION),))
        elif int(row[0]) != FORMAT_VERSION:
            raise StoreError(f"{self.path} 的格式版本是 {row[0]}，本程序只读 {FORMAT_VERSION}；"
                             f"请换一个 --home 目录后重新运行 policykb ingest")
        # Unit ids are allocated from this counter and never reused, so derived indexes can tell the
        # units added since they were saved (ids above their largest) from those they hold.
        if self._connection.execute("SELECT 1 FROM meta WHERE key = 'next_unit_id'").fetchone() is None:
            self._connection.execute("INSERT OR IGNORE INTO meta SELECT 'next_unit_id', COALESCE(MAX(id), 0) + 1 FROM units")

    def _check_tokenizer(self) -> None:
        """The lexical index's manifest check: tokens made by another dictionary are rebuilt in place."""
        row = self._connection.execute("SELECT value FROM meta WHERE key = 'tokenizer'").fetchone()
        if row is not None and row[0] == self.segmenter.fingerprint:
            return
        with self.transaction() as connection:
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

    def has_sha256(self, sha256: str) -> bool:
        return self._connection.execute("SELECT 1 FROM documents WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def document_header(self, doc_id: str) -> Document | None:
        """A stored document without its clauses, or None when there is no such document."""
        row = self._connection.execute(f"SELECT {', '.join(_DOCUMENT_FIELDS)} FROM documents WHERE id = ?",
                                       (doc_id,)).fetchone()
        return _document(row) if row else None

    def put_document(self, document: Document, *, replace: bool = True, actor: str = "") -> str:
        """Store a document in one transaction; returns "added", "replaced", "unchanged", "older" or "exists".

        A version dated before the stored one ("older") is not stored: ingesting a folder with both
        versions of a law keeps the newer one whatever the order. With `replace=False` another stored
        version is left alone ("exists"). A replacement is recorded with `actor` (who asked).
        """
        with self.transaction() as connection:
            row = connection.execute("SELECT sha256, date, title FROM documents WHERE id = ?", (document.id,)).fetchone()
            if row is not None and row[0] == document.sha256:
                return "unchanged"
            if row is not None and not replace:
                return "exists"
            if row is not None and document.date and row[1] and document.date < row[1]:
                return "older"
            if row is not None:
                self._delete(document.id)
                connection.execute("INSERT INTO replacements VALUES (?, ?, ?, ?, ?, ?, ?)", (
                    document.id, datetime.now(timezone.utc).isoformat(timespec="seconds"), actor or "unknown",
                    row[0], row[2], document.sha256, document.title))
            self._insert(document)
            self._bump_data_version()
        logger.info("%s %s (%d clauses)", "replaced" if row else "added", document.id, len(document.clauses))
        return "replaced" if row else "added"

    def replacements(self, doc_id: str) -> list[Replacement]:
        """The recorded replacements of a document, oldest first."""
        rows = self._connection.execute("SELECT * FROM replacements WHERE doc_id = ? ORDER BY rowid", (doc_id,))
        return [Replacement(*row) for row in rows]

    def delete_document(self, doc_id: str) -> None:
        with self.transaction():
            if not self._delete(doc_id):
                raise NotFound(f"没有文件 {doc_id}；用 policykb docs 查看已有文件")
            self._bump_data_version()

    def data_version(self) -> int:
        """A counter raised by every committed change of documents: derived indexes record it."""
        row = self._connection.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def _bump_data_version(self) -> None:
        self._connection.execute("INSERT INTO meta VALUES ('data_version', '1') ON CONFLICT (key) DO UPDATE "
                                 "SET value = CAST(value AS INTEGER) + 1")

    def _delete(self, doc_id: str) -> bool:
        """Delete a document, its BM25 rows and (by cascade) everything else; inside a transaction."""
        self._connection.execute("DELETE FROM units_fts WHERE rowid IN (SELECT id FROM units WHERE doc_id = ?)",
                                 (doc_id,))
        return self._connection.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount > 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (also KeyboardInterrupt)."""
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield self._connection
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")

    def _insert(self, document: Document) -> None:
        execute = self._connection.execute
        values = [getattr(document, name) for name in _DOCUMENT_FIELDS]
        values[_DOCUMENT_FIELDS.index("issuers")] = _dumps(document.issuers)
        execute(f"INSERT INTO documents VALUES ({', '.join('?' * (len(values) + 1))})",
                (*values, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        for ordinal, clause in enumerate(document.clauses):
            execute("INSERT INTO clauses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                clause.id, document.id, ordinal, clause.kind, clause.number, _dumps(clause.path),
                _dumps(clause.heading_path), clause.title, clause.text, _dumps(clause.topics),
                _dumps(clause.measures), _dumps([asdict(t) for t in clause.targets]),
                _dumps([asdict(c) for c in clause.citations])))
            for task_ordinal, task in enumerate(clause.tasks):
                execute("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?)",
                        (clause.id, task_ordinal, task.text, task.marker, task.kind, task.deadline))
                self._insert_responsibilities(clause.id, task_ordinal, task.departments)
            self._insert_responsibilities(clause.id, -1, clause.inherited)
        self._connection.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?, ?)",
                                     [(alias, canonical, document.id) for alias, canonical in document.aliases])
        units = document_units(document)
        first = int(execute("SELECT value FROM meta WHERE key = 'next_unit_id'").fetchone()[0])
        execute("UPDATE meta SET value = ? WHERE key = 'next_unit_id'", (str(first + len(units)),))
        for unit_id, unit in enumerate(units, start=first):
            execute("INSERT INTO units (id, clause_id, task_ordinal, doc_id, passage, passage_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (unit_id, unit.clause_id, unit.task_ordinal, unit.doc_id,
                                                  unit.passage, unit.passage_hash))
            execute("INSERT INTO units_fts (rowid, tokens) VALUES (?, ?)",
                    (unit_id, " ".join(self.segmenter.tokens(unit.passage))))

    def _insert_responsibilities(self, clause_id: str, task_ordinal: int,
                                 responsibilities: tuple[Responsibility, ...]) -> None:
        self._connection.executemany("INSERT INTO responsibilities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (clause_id, task_ordinal, ordinal, item.name, item.canonical, item.role, item.basis, item.level,
             _dumps(item.includes)) for ordinal, item in enumerate(responsibilities)])

    # -- reading -------------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        """Every document, without clauses, ordered by id."""
        rows = self._connection.execute(f"SELECT {', '.join(_DOCUMENT_FIELDS)} FROM documents ORDER BY id")
        return [_document(row) for row in rows]

    def document(self, doc_id: str) -> Document:
        """A document with all its clauses, tasks and responsibilities."""
        row = self._connection.execute(f"SELECT {', '.join(_DOCUMENT_FIELDS)} FROM documents WHERE id = ?",
                                       (doc_id,)).fetchone()
        if row is None:
            raise NotFound(f"没有文件 {doc_id}；用 policykb docs 查看已有文件的 ID")
        aliases = self._connection.execute("SELECT alias, canonical FROM aliases WHERE doc_id = ? ORDER BY alias",
                                           (doc_id,)).fetchall()
        clauses = tuple(self._load_clauses("c.doc_id = ?", (doc_id,)).values())
        return _document(row, clauses=clauses, aliases=tuple(map(tuple, aliases)))

    def clauses(self, clause_ids: list[str]) -> dict[str, Clause]:
        """The given clauses with their tasks and responsibilities, by id (missing ids are left out)."""
        marks = ",".join("?" * len(clause_ids))
        return self._load_clauses(f"c.id IN ({marks})", tuple(clause_ids)) if clause_ids else {}

    def _load_clauses(self, where: str, parameters: tuple) -> dict[str, Clause]:
        clause_rows = self._connection.execute(
            "SELECT c.id, c.kind, c.number, c.path, c.heading_path, c.title, c.text, c.topics, c.measures, "
            f"c.targets, c.citations FROM clauses c WHERE {where} ORDER BY c.doc_id, c.ordinal", parameters).fetchall()
        tasks: dict[str, list[tuple[int, str, str, str, str]]] = {}
        for clause_id, ordinal, text, marker, kind, deadline in self._connection.execute(
                f"SELECT t.clause_id, t.ordinal, t.text, t.marker, t.kind, t.deadline FROM tasks t "
                f"JOIN clauses c ON c.id = t.clause_id WHERE {where} ORDER BY t.clause_id, t.ordinal", parameters):
            tasks.setdefault(clause_id, []).append((ordinal, text, marker, kind, deadline))
        responsibilities: dict[str, dict[int, list[Responsibility]]] = {}
        for clause_id, task_ordinal, name, canonical, role, basis, level, includes in self._connection.execute(
                "SELECT r.clause_id, r.task_ordinal, r.name, r.canonical, r.role, r.basis, r.level, r.includes "
                f"FROM responsibilities r JOIN clauses c ON c.id = r.clause_id WHERE {where} "
                "ORDER BY r.clause_id, r.task_ordinal, r.ordinal", parameters):
            item = Responsibility(name, canonical, role, basis, level, tuple(json.loads(includes)))
            responsibilities.setdefault(clause_id, {}).setdefault(task_ordinal, []).append(item)
        return {row[0]: _clause(row, tasks.get(row[0], []), responsibilities.get(row[0], {})) for row in clause_rows}

    def counts(self) -> dict[str, int]:
        return {table: self._connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("documents", "clauses", "tasks", "responsibilities", "units", "units_fts")}

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection, for the index modules that query the store's tables (read-only use)."""
        return self._connection


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _document(row: tuple, clauses: tuple[Clause, ...] = (), aliases: tuple = ()) -> Document:
    fields = dict(zip(_DOCUMENT_FIELDS, row))
    fields["issuers"] = tuple(json.loads(fields["issuers"]))
    return Document(**fields, aliases=aliases, clauses=clauses)


def _clause(row: tuple, tasks: list[tuple[int, str, str, str, str]], responsibilities: dict[int, list[Responsibility]]) -> Clause:
    clause_id, kind, number, path, heading_path, title, text, topics, measures, targets, citations = row
    return Clause(
        id=clause_id, kind=kind, number=number, path=tuple(json.loads(path)),
        heading_path=tuple(json.loads(heading_path)), title=title, text=text,
        tasks=tuple(Task(task_text, marker, tuple(responsibilities.get(ordinal, ())), kind, deadline)
                    for ordinal, task_text, marker, kind, deadline in tasks),
        inherited=tuple(responsibilities.get(-1, ())), topics=tuple(json.loads(topics)),
        measures=tuple(json.loads(measures)), targets=tuple(Target(**item) for item in json.loads(targets)),
        citations=tuple(Citation(**item) for item in json.loads(citations)))
