"""The store's validity statements: staff's marks, the changes a document names, the format 4 → 5 step.

Part of the store API (`Store` inherits `ValidityWrites`; which validity holds is read in reads.py).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import Callable, ContextManager

from ingest.errors import NotFound
from ingest.records import Change, Validity
from ingest.validity import read_validity


class ValidityWrites:
    """Validity statements over `self._connection`; `set_validity` is a transaction of its own."""

    _connection: sqlite3.Connection
    _transaction: Callable[[], ContextManager[sqlite3.Connection]]
    _bump_data_version: Callable[[], None]

    def set_validity(self, doc_id: str, validity: Validity | None, actor: str) -> None:
        """Staff's validity of a document (None: none, the text's and newer documents' say again); it
        holds over what the text says and is kept when a new version replaces the document."""
        with self._transaction() as connection:
            if connection.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is None:
                raise NotFound(f"没有文件 {doc_id}；用 policykb docs 查看已有文件")
            if validity is None:
                connection.execute("DELETE FROM validity_marks WHERE doc_id = ?", (doc_id,))
            else:
                connection.execute("INSERT OR REPLACE INTO validity_marks VALUES (?, ?, ?, ?)", (
                    doc_id, validity, actor or "unknown", datetime.now(timezone.utc).isoformat(timespec="seconds")))
            self._bump_data_version()

    def _add_validity(self) -> None:
        """Format 4 → 5: the validity column, and each document's validity and changes from its stored clauses."""
        columns = {row[1] for row in self._connection.execute("PRAGMA table_info(documents)")}
        if "validity" not in columns:
            self._connection.execute("ALTER TABLE documents ADD COLUMN validity TEXT NOT NULL DEFAULT 'unknown'")
        for doc_id, title in self._connection.execute("SELECT id, title FROM documents").fetchall():
            texts = [text for (text,) in self._connection.execute("SELECT text FROM clauses WHERE doc_id = ?", (doc_id,))]
            validity, changes = read_validity(title, texts)
            self._connection.execute("UPDATE documents SET validity = ? WHERE id = ?", (validity, doc_id))
            self._insert_changes(doc_id, changes)

    def _insert_changes(self, doc_id: str, changes: tuple[Change, ...]) -> None:
        self._connection.executemany("INSERT INTO document_changes VALUES (?, ?, ?, ?)",
                                     [(doc_id, ordinal, change.title, change.validity) for ordinal, change in enumerate(changes)])
