"""An in-memory BM25 index over the store's tokens: the fast path for ranking.

SQLite FTS5 holds the tokens transactionally (written with each document), but ranking an OR query
there costs tens of milliseconds at 100k units. This index holds, for every term, the units it
occurs in with their BM25 weight precomputed (FTS5's formula: k1 = 1.2, b = 0.75,
idf = max(ln((N − n + 0.5) / (n + 0.5)), 1e-6), terms split as FTS5's unicode61 tokenizer splits
them), so a query is a few array additions. One difference: a token that unicode61 splits (pm2.5 →
pm2, 5) is a phrase in an FTS5 query and two independent terms here.

It is derived data, saved beside the store as one `.npy` file per array, named by a random
generation (`lexical-<generation>.<array>.npy`), and a manifest `lexical.json` (format, tokenizer
fingerprint, BM25 parameters, the store's identity and version it was saved at, the generation and
each array's size and sha256), written after the arrays, each to a temporary file and renamed: a
reader sees the arrays of one generation whole or none. The arrays are memory-mapped, so the
processes serving one store share one copy in the page cache; the checksums are verified once per
generation (a snapshot's index hands the loaded arrays to the next: `open(store, previous)`). It is
rebuilt when the manifest does not match, when the store's history does not hold that version (a
store restored from an older backup hands unit ids out again), or when a file cannot be read or
does not match its checksum. Updates are incremental, as in Lucene: unit ids
are never reused (the store allocates them in increasing order), so on open the units added since
the file was saved (ids above its largest) form a small second segment built from their FTS5 rows,
and units deleted since are masked. The saved segment keeps the collection statistics it was built
with; the new segment is weighted with the statistics of both. When added plus deleted units reach
`MERGE_FRACTION` of the saved segment, the whole index is rebuilt and saved again.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
from pathlib import Path

import numpy as np

from .files import file_sha256, write_atomically
from .store import Store, StoreVersion

logger = logging.getLogger(__name__)
FORMAT_VERSION = 3
FILE_NAME = "lexical.json"  # the manifest; the arrays are lexical-<generation>.<array>.npy
_ARRAYS = ("vocabulary", "pointers", "units", "weights", "unit_ids")
K1, B = 1.2, 0.75
MERGE_FRACTION = 0.1
_TERM = re.compile(r"\w+")


def terms(tokens: str) -> list[str]:
    """Terms as FTS5's unicode61 tokenizer sees a space-joined token string."""
    return _TERM.findall(tokens.lower())


class _Segment:
    """Postings by term (CSR: `pointers` into `units`/`weights`), positions → unit ids in `unit_ids`."""

    def __init__(self, vocabulary: dict[str, int], pointers: np.ndarray, units: np.ndarray, weights: np.ndarray,
                 unit_ids: np.ndarray, length_sum: float, generation: str = "") -> None:
        self.vocabulary, self.pointers, self.units, self.weights, self.unit_ids, self.length_sum = (
            vocabulary, pointers, units, weights, unit_ids, length_sum)
        self.generation = generation  # of the saved files it was read from or written to ("" for neither)

    @classmethod
    def build(cls, rows: list[tuple[int, str]], base: "_Segment | None" = None) -> "_Segment":
        """Postings of (unit id, tokens) rows; with `base`, weighted by the statistics of both segments."""
        vocabulary: dict[str, int] = {}
        term_ids, positions, lengths = [], [], np.zeros(len(rows), dtype=np.float32)
        for position, (_, tokens) in enumerate(rows):
            ids = [vocabulary.setdefault(term, len(vocabulary)) for term in terms(tokens)]
            lengths[position] = len(ids)
            term_ids += ids
            positions += [position] * len(ids)
        size = max(len(rows), 1)
        pairs, frequencies = np.unique(np.array(term_ids, dtype=np.int64) * size + np.array(positions, dtype=np.int64),
                                       return_counts=True)
        term_of, units = np.divmod(pairs, size)
        pointers = np.searchsorted(term_of, np.arange(len(vocabulary) + 1)).astype(np.int64)
        documents = np.diff(pointers).astype(np.float64)
        total, length_sum = len(rows), float(lengths.sum())
        if base is not None:
            documents += np.array([base.document_frequency(term) for term in vocabulary], dtype=np.float64)
            total, length_sum = total + len(base.unit_ids), length_sum + base.length_sum
        idf = np.maximum(np.log((total - documents + 0.5) / (documents + 0.5)), 1e-6)
        norm = K1 * (1 - B + B * lengths[units] / (length_sum / total if total else 1.0))
        weights = (idf[term_of] * frequencies * (K1 + 1) / (frequencies + norm)).astype(np.float32)
        unit_ids = np.array([rowid for rowid, _ in rows], dtype=np.int64)
        return cls(vocabulary, pointers, units.astype(np.int32), weights, unit_ids, float(lengths.sum()))

    def document_frequency(self, term: str) -> int:
        term_id = self.vocabulary.get(term)
        return 0 if term_id is None else int(self.pointers[term_id + 1] - self.pointers[term_id])

    def scores(self, query_terms: list[str]) -> np.ndarray:
        scores = np.zeros(len(self.unit_ids), dtype=np.float32)
        for term in dict.fromkeys(query_terms):
            if (term_id := self.vocabulary.get(term)) is not None:
                span = slice(self.pointers[term_id], self.pointers[term_id + 1])
                scores[self.units[span]] += self.weights[span]
        return scores


class LexicalIndex:
    """The saved segment, the units added since (a second segment) and the saved units deleted since."""

    def __init__(self, saved: _Segment, added: _Segment | None = None, deleted: np.ndarray | None = None) -> None:
        self.saved, self.added = saved, added
        self.deleted = deleted if deleted is not None else np.zeros(len(saved.unit_ids), dtype=bool)
        all_ids = saved.unit_ids if added is None else np.concatenate([saved.unit_ids, added.unit_ids])
        self._ids = all_ids
        self._live = np.concatenate([~self.deleted, np.ones(len(all_ids) - len(saved.unit_ids), dtype=bool)])
        self._masked, self._count = bool(self.deleted.any()), int(self._live.sum())

    def __len__(self) -> int:
        return self._count

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a term over the units at open (a term no unit holds has
        the largest)."""
        frequency = self.saved.document_frequency(term) + (self.added.document_frequency(term) if self.added else 0)
        return math.log((len(self) - frequency + 0.5) / (frequency + 0.5) + 1)

    @property
    def unit_ids(self) -> np.ndarray:
        """The ids of the units this index answers with: the store's units at open."""
        return self._ids[self._live]

    @classmethod
    def open(cls, store: Store, previous: "LexicalIndex | None" = None) -> "LexicalIndex":
        """Load the saved index and bring it up to date with the store, or build and save a new one.
        `previous` (an index of this store opened before) lends its saved segment when the files are
        still the ones it was read from."""
        path = store.path.parent / FILE_NAME
        manifest, version = _manifest(store), store.version()
        if path.exists():
            try:
                if (saved := _load(path, manifest, store, previous.saved if previous else None)) is not None:
                    if (index := cls._updated(store, saved)) is not None:
                        return index
                    logger.info("%s: many units changed since it was saved: rebuilding", path.name)
            except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
                logger.warning("rebuilding %s (unreadable: %s)", path.name, error)
        index = cls.build(store)
        index.saved.generation = _save(path, {**manifest, "store": vars(version)}, index.saved)
        return index

    @classmethod
    def build(cls, store: Store) -> "LexicalIndex":
        rows = store.unit_tokens()
        saved = _Segment.build(rows)
        logger.info("built BM25 index: %d units, %d terms", len(rows), len(saved.vocabulary))
        return cls(saved)

    @classmethod
    def _updated(cls, store: Store, saved: _Segment) -> "LexicalIndex | None":
        """The saved segment with the store's changes since applied; None when a rebuild is cheaper."""
        last = int(saved.unit_ids[-1]) if len(saved.unit_ids) else 0
        deleted = np.zeros(len(saved.unit_ids), dtype=bool)
        if store.unit_count(up_to=last) != len(saved.unit_ids):
            present = np.array(store.unit_ids(up_to=last), dtype=np.int64)
            deleted = ~np.isin(saved.unit_ids, present)
        added_count = store.unit_count(after=last)
        if added_count + deleted.sum() > MERGE_FRACTION * max(len(saved.unit_ids), 1):
            return None
        if added_count or deleted.any():
            logger.info("BM25 index: %d units added and %d deleted since it was saved", added_count, deleted.sum())
        if not added_count:
            return cls(saved, None, deleted)
        rows = store.unit_tokens(after=last)
        return cls(saved, _Segment.build(rows, base=saved), deleted)

    def search(self, query_terms: list[str], limit: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """(unit id, BM25 score) best first, the same scores FTS5's bm25() gives (negated) right after a
        rebuild; between rebuilds the saved segment keeps its statistics."""
        scores = self.saved.scores(query_terms)
        if self.added is not None:
            scores = np.concatenate([scores, self.added.scores(query_terms)])
        if self._masked:
            scores[~self._live] = 0
        if allowed is not None:
            scores[~np.isin(self._ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))] = 0
        candidates = np.flatnonzero(scores)
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
        ranked = candidates[np.lexsort((self._ids[candidates], -scores[candidates]))]
        return [(int(self._ids[i]), float(scores[i])) for i in ranked]


def _save(path: Path, manifest: dict, segment: _Segment) -> str:
    """The arrays under a new generation, then the manifest naming it (each written atomically); the
    files of generations before the one replaced are removed. Returns the new generation."""
    generation, folder = secrets.token_hex(6), path.parent
    arrays = {"vocabulary": np.array(list(segment.vocabulary)), "pointers": segment.pointers, "units": segment.units,
              "weights": segment.weights, "unit_ids": segment.unit_ids}
    described = {}
    for name, array in arrays.items():
        target = folder / f"lexical-{generation}.{name}.npy"
        write_atomically(target, lambda temporary, array=array: np.save(temporary, array), suffix=".tmp.npy")
        described[name] = {"bytes": target.stat().st_size, "sha256": file_sha256(target)}
    kept = {generation, _saved_generation(path)}
    saved = {**manifest, "generation": generation, "length_sum": segment.length_sum, "arrays": described}
    write_atomically(path, lambda temporary: temporary.write_text(json.dumps(saved, ensure_ascii=False)))
    for old in folder.glob("lexical-*.npy"):
        if old.name.split(".", 1)[0].removeprefix("lexical-") not in kept:
            old.unlink(missing_ok=True)
    (folder / "lexical.npz").unlink(missing_ok=True)  # format 2's file
    return generation


def lexical_files(folder: Path) -> tuple[Path, ...]:
    """The files of the index saved in `folder` now: the arrays of its generation, then the manifest."""
    path = folder / FILE_NAME
    if not path.exists():
        return ()
    generation = _saved_generation(path)
    return (*(folder / f"lexical-{generation}.{name}.npy" for name in _ARRAYS), path)


def _saved_generation(path: Path) -> str:
    try:
        return str(json.loads(path.read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _load(path: Path, manifest: dict, store: Store, previous: _Segment | None) -> _Segment | None:
    """The saved segment (`previous` when it was read from the same generation); None when its manifest
    is not this build's or its store version is not in the store's history (stale); raises when a
    file is unreadable or does not match the manifest."""
    saved = json.loads(path.read_text())
    at, generation = saved.pop("store", None), saved.pop("generation", None)
    length_sum, arrays = saved.pop("length_sum", None), saved.pop("arrays", None)
    if saved != manifest:
        logger.info("%s is stale (another tokenizer or format): rebuilding", path.name)
        return None
    if not isinstance(at, dict) or not store.has_version(StoreVersion(
            str(at["store_id"]), int(at["data_version"]), str(at["token"]))):
        logger.warning("%s was saved for another store or another history of this one (restored from a "
                       "backup?): rebuilding", path.name)
        return None
    if previous is not None and previous.generation and previous.generation == generation:
        return previous
    files = {name: path.parent / f"lexical-{generation}.{name}.npy" for name in _ARRAYS}
    for name, target in files.items():
        if target.stat().st_size != arrays[name]["bytes"] or file_sha256(target) != arrays[name]["sha256"]:
            raise ValueError(f"{target.name} does not match its checksum")
    loaded = {name: np.load(target, mmap_mode="r", allow_pickle=False) for name, target in files.items()}
    vocabulary = {term: i for i, term in enumerate(loaded["vocabulary"].tolist())}
    segment = _Segment(vocabulary, loaded["pointers"], loaded["units"], loaded["weights"], loaded["unit_ids"],
                       float(length_sum), str(generation))
    if (len(segment.pointers) != len(vocabulary) + 1 or np.any(np.diff(segment.unit_ids) <= 0)
            or (len(segment.units) and segment.units.max() >= len(segment.unit_ids))):
        raise ValueError("inconsistent arrays")
    return segment



def _manifest(store: Store) -> dict:
    return {"format": FORMAT_VERSION, "tokenizer": store.segmenter.fingerprint, "k1": K1, "b": B, "idf_floor": 1e-6}
