"""The store's twin statements: each measure clause's band keys, and the links to its twins.

Part of the store API (`Store` inherits `TwinWrites`; the reads are in reads.py). A clause's 32 keys
are kept twice, compactly: as one 256-byte value beside the clause (`twin_clauses`, what a deletion
reads) and inverted, key → clause number (`twin_bands`, what a new clause looks its candidates up in).
"""

from __future__ import annotations

import sqlite3

import numpy as np

from .twins import TWIN_KINDS, TwinRule, bands, shingles

_CANDIDATES = 20  # candidates a clause weighs: those sharing the most band keys with it
# A candidate shares at least this many of the 32 keys: a pair of Jaccard similarity 0.1 does with
# probability 0.84, 0.15 with 0.96, 0.2 with 0.99; one of 0.02 (the same subject's legal boilerplate)
# with 0.13, so most chance pairs are never compared.
_MIN_SHARED_KEYS = 2
_POPULAR_BAND = 100  # a key held by more clauses than this finds no candidates (a stop word's 3-gram)


class TwinWrites:
    """Twin statements over `self._connection`, inside the transaction of the document they concern."""

    _connection: sqlite3.Connection

    def _link_twins(self, doc_id: str, rule: TwinRule = TwinRule()) -> None:
        """Store the band keys of a stored document's measure clauses and link each to its twins in the
        documents stored before it (twins.py). A clause weighs at most `_CANDIDATES` candidates, and a
        key held by more than `_POPULAR_BAND` clauses finds none (counted with a bounded scan):
        boilerplate shared by thousands of clauses costs no more than a rare measure."""
        execute = self._connection.execute
        level = execute("SELECT level FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
        kinds = sorted(TWIN_KINDS)
        rows = execute(f"SELECT id, text FROM clauses WHERE doc_id = ? AND kind IN ({','.join('?' * len(kinds))}) "
                       "ORDER BY ordinal", (doc_id, *kinds)).fetchall()
        keyed = []  # the document's keys go in after all its clauses looked: its own are never candidates
        for clause_id, text in rows:
            grams = shingles(text)
            if len(grams) < rule.min_shingles:
                continue
            keys = bands(grams)
            rare = [key for key in dict.fromkeys(keys) if execute(
                "SELECT count(*) FROM (SELECT 1 FROM twin_bands WHERE band = ? LIMIT ?)",
                (key, _POPULAR_BAND + 1)).fetchone()[0] <= _POPULAR_BAND]
            candidates = execute(
                f"SELECT c.id, c.text, d.level FROM (SELECT clause, count(*) AS shared FROM twin_bands "
                f"WHERE band IN ({','.join('?' * len(rare))}) GROUP BY clause HAVING count(*) >= ? "
                f"ORDER BY shared DESC, clause LIMIT ?) s "
                f"JOIN twin_clauses t ON t.id = s.clause JOIN clauses c ON c.id = t.clause_id "
                f"JOIN documents d ON d.id = c.doc_id",
                (*rare, _MIN_SHARED_KEYS, _CANDIDATES)).fetchall() if rare else []
            for twin_id, twin_text, twin_level in candidates:
                similarity = rule.similarity(grams, shingles(twin_text), same_level=twin_level == level)
                if similarity is not None:
                    self._connection.executemany("INSERT OR IGNORE INTO twins VALUES (?, ?, ?)",
                                                 [(clause_id, twin_id, similarity), (twin_id, clause_id, similarity)])
            keyed.append((clause_id, keys))
        for clause_id, keys in keyed:
            number = execute("INSERT INTO twin_clauses (clause_id, bands) VALUES (?, ?)",
                             (clause_id, np.array(keys, dtype=np.int64).tobytes())).lastrowid
            self._connection.executemany("INSERT OR IGNORE INTO twin_bands VALUES (?, ?)",
                                         [(key, number) for key in keys])

    def _unlink_twins(self, doc_id: str) -> None:
        """Remove a document's band keys from the inverted table (its clauses' rows and twin links go
        with the clauses, by cascade)."""
        rows = self._connection.execute("SELECT t.id, t.bands FROM twin_clauses t JOIN clauses c ON c.id = t.clause_id "
                                        "WHERE c.doc_id = ?", (doc_id,)).fetchall()
        self._connection.executemany("DELETE FROM twin_bands WHERE band = ? AND clause = ?",
                                     [(int(key), number) for number, keys in rows
                                      for key in np.frombuffer(keys, dtype=np.int64)])
