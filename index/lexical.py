"""An in-memory BM25 index over the store's tokens: the fast path for ranking.

SQLite FTS5 holds the tokens transactionally (written with each document), but ranking an OR query
there costs tens of milliseconds at 100k units. This index holds, for every term, the units it
occurs in with their BM25 weight precomputed (FTS5's formula: k1 = 1.2, b = 0.75,
idf = max(ln((N − n + 0.5) / (n + 0.5)), 1e-6), terms split as FTS5's unicode61 tokenizer splits
them), so a query is a few array additions. One difference: a token that unicode61 splits (pm2.5 →
pm2, 5) is a phrase in an FTS5 query and two independent terms here. It is derived data: saved to `lexical.npz` beside the
store with a manifest (format, tokenizer fingerprint, the store's data version, unit count),
written to a temporary file and renamed, and rebuilt when the manifest does not match or the file
cannot be read.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from pathlib import Path

import numpy as np

from .files import write_atomically
from .store import Store

logger = logging.getLogger(__name__)
FORMAT_VERSION = 1
FILE_NAME = "lexical.npz"
K1, B = 1.2, 0.75
_TERM = re.compile(r"\w+")


def terms(tokens: str) -> list[str]:
    """Terms as FTS5's unicode61 tokenizer sees a space-joined token string."""
    return _TERM.findall(tokens.lower())


class LexicalIndex:
    def __init__(self, vocabulary: dict[str, int], pointers: np.ndarray, units: np.ndarray,
                 weights: np.ndarray, unit_ids: np.ndarray) -> None:
        self.vocabulary, self.pointers, self.units, self.weights, self.unit_ids = (
            vocabulary, pointers, units, weights, unit_ids)

    @classmethod
    def open(cls, store: Store) -> "LexicalIndex":
        """Load the saved index if its manifest matches the store, else build and save it."""
        path = store.path.parent / FILE_NAME
        manifest = _manifest(store)
        if path.exists():
            try:
                if (index := cls._load(path, manifest)) is not None:
                    return index
                logger.info("%s is stale (the store changed): rebuilding", path.name)
            except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
                logger.warning("rebuilding %s (unreadable: %s)", path.name, error)
        index = cls.build(store)
        index._save(path, manifest)
        return index

    @classmethod
    def build(cls, store: Store) -> "LexicalIndex":
        rows = store.connection.execute("SELECT rowid, tokens FROM units_fts ORDER BY rowid").fetchall()
        vocabulary: dict[str, int] = {}
        term_ids, positions, lengths = [], [], np.zeros(len(rows), dtype=np.float32)
        for position, (_, tokens) in enumerate(rows):
            ids = [vocabulary.setdefault(term, len(vocabulary)) for term in terms(tokens)]
            lengths[position] = len(ids)
            term_ids += ids
            positions += [position] * len(ids)
        keys = np.array(term_ids, dtype=np.int64) * max(len(rows), 1) + np.array(positions, dtype=np.int64)
        pairs, frequencies = np.unique(keys, return_counts=True)
        term_of, units = np.divmod(pairs, max(len(rows), 1))
        pointers = np.searchsorted(term_of, np.arange(len(vocabulary) + 1)).astype(np.int64)
        documents = np.diff(pointers).astype(np.float64)
        idf = np.maximum(np.log((len(rows) - documents + 0.5) / (documents + 0.5)), 1e-6)
        average = float(lengths.mean()) if len(rows) else 1.0
        norm = K1 * (1 - B + B * lengths[units] / average)
        weights = (idf[term_of] * frequencies * (K1 + 1) / (frequencies + norm)).astype(np.float32)
        unit_ids = np.array([rowid for rowid, _ in rows], dtype=np.int64)
        logger.info("built BM25 index: %d units, %d terms", len(rows), len(vocabulary))
        return cls(vocabulary, pointers, units.astype(np.int32), weights, unit_ids)

    def search(self, query_terms: list[str], limit: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """(unit id, BM25 score) best first, the same scores FTS5's bm25() gives (negated)."""
        scores = np.zeros(len(self.unit_ids), dtype=np.float32)
        for term in dict.fromkeys(query_terms):
            if (term_id := self.vocabulary.get(term)) is not None:
                span = slice(self.pointers[term_id], self.pointers[term_id + 1])
                scores[self.units[span]] += self.weights[span]
        if allowed is not None:
            scores[~np.isin(self.unit_ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))] = 0
        candidates = np.flatnonzero(scores)
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
        ranked = candidates[np.lexsort((self.unit_ids[candidates], -scores[candidates]))]
        return [(int(self.unit_ids[i]), float(scores[i])) for i in ranked]

    def _save(self, path: Path, manifest: dict) -> None:
        write_atomically(path, lambda temporary: np.savez(
            temporary, manifest=np.array(json.dumps(manifest)), vocabulary=np.array(list(self.vocabulary)),
            pointers=self.pointers, units=self.units, weights=self.weights, unit_ids=self.unit_ids),
            suffix=".tmp.npz")

    @classmethod
    def _load(cls, path: Path, manifest: dict) -> "LexicalIndex | None":
        """The saved index; None when its manifest is not the store's (stale); raises when unreadable."""
        with path.open("rb") as handle, np.load(handle) as data:  # our handle: closed even when np.load fails
            if json.loads(str(data["manifest"])) != manifest:
                return None
            vocabulary = {term: i for i, term in enumerate(data["vocabulary"].tolist())}
            index = cls(vocabulary, data["pointers"], data["units"], data["weights"], data["unit_ids"])
        if len(index.pointers) != len(vocabulary) + 1 or (len(index.units) and index.units.max() >= len(index.unit_ids)):
            raise ValueError("inconsistent arrays")
        return index


def _manifest(store: Store) -> dict:
    return {"format": FORMAT_VERSION, "tokenizer": store.segmenter.fingerprint,
            "data_version": store.data_version(),
            "units": store.connection.execute("SELECT count(*) FROM units").fetchone()[0], "k1": K1, "b": B,
            "idf_floor": 1e-6}
